"""The notebooks' install step on Colab (D2L §16.4 on today's Colab).

Colab runs Python 3.12 with numpy 2, and scipy, pandas and matplotlib
built for it; mxnet 1.9.1 needs numpy < 2.  Every notebook's first code
cell installs d2lrec (without its dependencies) if it is missing, then
runs this file as a script.  `setup` then installs the pinned stack that
this repository tests, and restarts the runtime once, so that numpy 1.26
replaces the numpy 2 in memory:

- on a GPU runtime whose GPU mxnet-cu112 can run (compute capability
  5.0 to 8.9), ``stack-cu112.txt``: mxnet-cu112 and the CUDA 11
  libraries (docs/gpu.md); otherwise ``stack.txt``, CPU mxnet;
- outside Colab, and under nbval, it does nothing and prints nothing;
- it restarts at most once (a mark file under ``sys.prefix``); a stack
  still wrong after that is reported with d2lrec's reason;
- every failure raises, saying why.

Standard library only, and it must not import d2lrec: on Colab's numpy 2
stack ``import d2lrec`` raises `StackError`, which is the point.
"""
import importlib.metadata
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent

#: The compute capabilities that mxnet-cu112 1.9.1 runs: it has kernels
#: for sm_50 to sm_86 and no PTX; 8.9 (Ada) runs 8.6 code.
GPU_CAPABILITIES = ((5, 0), (8, 9))

#: The mxnet build of each stack file; installing one removes the other.
MXNET = {'stack.txt': 'mxnet', 'stack-cu112.txt': 'mxnet-cu112'}


def on_colab():
    """Whether this runs in a Colab kernel (it imports google.colab)."""
    return 'google.colab' in sys.modules


def restart_mark():
    """The file whose existence says the runtime was restarted once."""
    return pathlib.Path(sys.prefix, 'd2lrec-restarted')


def gpu_capability():
    """Return the first NVIDIA GPU's compute capability as ``(major,
    minor)``, or None if ``nvidia-smi`` is missing or finds no GPU."""
    try:
        out = subprocess.run(['nvidia-smi', '--query-gpu=compute_cap',
                              '--format=csv,noheader'],
                             capture_output=True, text=True)
    except OSError:  # no NVIDIA driver: a CPU runtime
        return None
    try:
        major, minor = out.stdout.split()[0].split('.')
        return int(major), int(minor)
    except (IndexError, ValueError):
        return None


def choose_stack():
    """Return the stack file for this runtime, and a note or None."""
    capability = gpu_capability()
    if capability is None:
        return HERE / 'stack.txt', None
    if GPU_CAPABILITIES[0] <= capability <= GPU_CAPABILITIES[1]:
        return HERE / 'stack-cu112.txt', None
    return HERE / 'stack.txt', (
        f'This GPU (compute capability {capability[0]}.{capability[1]}) '
        f'cannot run mxnet-cu112 1.9.1, which has kernels for sm_50 to '
        f'sm_86 only, so the CPU stack is installed: the chapter trains '
        f'on the CPU (docs/gpu.md).')


def stack_problem(stack):
    """Why d2lrec, mxnet and d2l do not import, or the installed mxnet is
    not `stack`'s, in a new process; None if all is right."""
    check = ('import d2lrec; from d2l import mxnet; import '
             f'importlib.metadata as m; m.version({MXNET[stack.name]!r})')
    out = subprocess.run([sys.executable, '-c', check],
                         capture_output=True, text=True)
    if out.returncode == 0:
        return None
    return (out.stderr.strip() or 'no message').splitlines()[-1]


def install(stack):
    """Install `stack` whole, after removing the other mxnet build."""
    pip = [sys.executable, '-m', 'pip']
    for other in set(MXNET.values()) - {MXNET[stack.name]}:
        try:
            importlib.metadata.version(other)
        except importlib.metadata.PackageNotFoundError:
            continue
        subprocess.run(pip + ['uninstall', '-q', '-y', other], check=True)
    subprocess.run(pip + ['install', '-q', '--no-deps', '-r', str(stack)],
                   check=True)


def numpy_2_loaded():
    """The version of numpy 2 in memory, or None."""
    numpy = sys.modules.get('numpy')
    version = getattr(numpy, '__version__', '0')
    return version if int(version.split('.')[0]) >= 2 else None


def setup():
    """On Colab, install the stack and restart the runtime once, unless
    it is ready; elsewhere do nothing."""
    if not on_colab():
        return
    stack, note = choose_stack()
    numpy_2 = numpy_2_loaded()
    if not numpy_2 and not stack_problem(stack):
        return
    if restart_mark().exists():  # never a second restart
        raise RuntimeError(
            'the runtime was restarted, but the stack is still wrong: '
            + (stack_problem(stack) or f'numpy {numpy_2} is loaded; use '
               'Runtime > Restart session, then run all'))
    install(stack)
    problem = stack_problem(stack)
    if problem:  # a restart would not help: say why
        raise RuntimeError('the install did not work: ' + problem)
    restart_mark().touch()
    words = [f'Installed d2lrec and its stack ({stack.name}: numpy '
             f'1.26.4, {MXNET[stack.name]} 1.9.1, d2l 1.0.3).', note,
             'Restarting the runtime now, to load numpy 1.26 instead of '
             'numpy 2 (Colab may say the session crashed: that is this '
             'restart). When it has reconnected, run all cells again; '
             'this one will then do nothing.']
    print(' '.join(word for word in words if word), flush=True)
    os.kill(os.getpid(), 9)


if __name__ == '__main__':
    setup()

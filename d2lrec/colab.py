"""The notebooks' install step on Colab (D2L §16.4 on today's Colab).

Colab runs Python 3.12 with numpy 2, and scipy, pandas and matplotlib
built for it.  d2lrec runs mxnet 1.9.1 on numpy 2 (`d2lrec._compat`), so
Colab's packages stay as they are.  Every notebook's first code cell
installs d2lrec (without its dependencies) if it is missing, then runs
this file as a script.  `setup` installs, into the running kernel, only
what d2lrec needs and Colab lacks, and the next cell trains in that same
kernel:

- the mxnet build for this runtime, with the pins of d2lrec's own stack
  files: ``stack-cu112.txt`` (mxnet-cu112 and the CUDA 11 libraries,
  docs/gpu.md) when ``nvidia-smi`` reports a GPU that mxnet-cu112 can
  run (compute capability 5.0 to 8.9), otherwise ``stack.txt`` (CPU
  mxnet), with a note when a GPU is left unused; one mxnet build at a
  time, so another one is removed first;
- of that file, mxnet, d2l and the CUDA 11 libraries at their pinned
  versions (`exact`), and any other package only if it is missing, such
  as setuptools, which provides the distutils that mxnet imports and
  Python 3.12 no longer has.  Colab's numpy, scipy, pandas and
  matplotlib are never replaced.  All without dependencies (``pip
  install --no-deps``): mxnet's and d2l's pin numpy < 2 and 1.23.5;
- then, in a new Python, it imports d2lrec, d2l and mxnet; if that
  fails it raises with d2lrec's reason (for example a numpy newer than
  d2lrec is tested on), and if not, after an install, it says in one
  line what it installed;
- outside Colab, and on a runtime that needs nothing, it does nothing
  and prints nothing.

Standard library only, and it does not import d2lrec: before the install
``import d2lrec`` raises `StackError` on Colab (mxnet is missing), and
an import that fails leaves d2lrec's submodules behind in the kernel.
"""
import importlib
import importlib.metadata
import os
import pathlib
import site
import subprocess
import sys

HERE = pathlib.Path(__file__).parent

#: The compute capabilities that mxnet-cu112 1.9.1 runs: it has kernels
#: for sm_50 to sm_86 and no PTX; 8.9 (Ada) runs 8.6 code.
GPU_CAPABILITIES = ((5, 0), (8, 9))

#: The mxnet build of each stack file.
MXNET = {'stack.txt': 'mxnet', 'stack-cu112.txt': 'mxnet-cu112'}

#: Colab's own packages that d2lrec runs on: kept, and named.
COLAB_KEEPS = ('numpy', 'scipy', 'pandas', 'matplotlib')


def on_colab():
    """Whether this runs in a Colab kernel (it imports google.colab)."""
    return 'google.colab' in sys.modules


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
        f'sm_86 only, so CPU mxnet is installed: the chapter trains on '
        f'the CPU (docs/gpu.md).')


def installed(name):
    """The installed version of distribution `name`, or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def read_stack(stack):
    """Return ``(name, version, requirement)`` for each pin of `stack`, a
    requirements file of ``name==version`` lines.  A line's ``;
    python_version`` marker stays in its requirement, for pip to judge:
    two lines may pin one package, for different Pythons."""
    pins = []
    for line in stack.read_text().splitlines():
        name, sep, version = line.partition(';')[0].partition('==')
        if sep and not line.startswith('#'):
            pins.append((name.strip().lower(), version.strip(),
                         line.strip()))
    return pins


def exact(name):
    """Whether package `name` must be at its pinned version: the mxnet
    builds, d2l and NVIDIA's CUDA 11 wheels, which only d2lrec uses."""
    return name in ('d2l', *MXNET.values()) or name.endswith('-cu11')


def to_install(stack):
    """The requirements of `stack` that this runtime lacks: each package
    that is missing, and each `exact` one at another version."""
    return [requirement for name, version, requirement in read_stack(stack)
            if installed(name) is None
            or exact(name) and installed(name) != version]


def other_builds(stack):
    """The mxnet builds to remove before installing `stack`'s: none if
    `stack`'s is the only one installed, else every one installed."""
    builds = [build for build in MXNET.values() if installed(build)]
    return [] if builds in ([], [MXNET[stack.name]]) else builds


def pip(*args):
    """Run pip in this Python; raise if it fails (pip says why)."""
    subprocess.run([sys.executable, '-m', 'pip', *args], check=True)


def site_dirs():
    """The site-packages folders of this Python, where pip installs."""
    return [*site.getsitepackages(), site.getusersitepackages()]


def pth_files():
    """The ``(folder, name)`` of each .pth file in `site_dirs`."""
    found = set()
    for folder in site_dirs():
        if os.path.isdir(folder):
            found.update((folder, name) for name in os.listdir(folder)
                         if name.endswith('.pth'))
    return found


def take_up(pth_before):
    """Let this process import what pip just installed, as a new one
    would: clear the import system's caches of folders and metadata, and
    run each .pth file not in `pth_before` as Python does at start
    (setuptools' makes distutils importable)."""
    importlib.invalidate_caches()
    for folder, name in sorted(pth_files() - pth_before):
        site.addpackage(folder, name, None)


def stack_problem(stack):
    """Why d2lrec, mxnet and d2l do not import, or the installed mxnet is
    not `stack`'s, in a new process (one line, d2lrec's reason when it
    has one); None if all is right."""
    check = ('import d2lrec; from d2l import mxnet; import '
             f'importlib.metadata as m; m.version({MXNET[stack.name]!r})')
    out = subprocess.run([sys.executable, '-c', check],
                         capture_output=True, text=True)
    if out.returncode == 0:
        return None
    return (out.stderr.strip() or 'no message').splitlines()[-1]


def summary(names, note):
    """One line: the packages `names` installed, beside Colab's own."""
    cuda = [name for name in names if name.endswith('-cu11')]
    done = [f'{name} {installed(name)}' for name in names
            if name not in cuda]
    if cuda:
        done.append(f"NVIDIA's CUDA 11 libraries ({len(cuda)} wheels)")
    kept = [f'{name} {installed(name)}' for name in COLAB_KEEPS
            if name not in names and installed(name)]
    words = [f'd2lrec installed {", ".join(done)}'
             + (f", beside Colab's {', '.join(kept)}" if kept else '')
             + '.', note, 'Ready: the next cells run in this same runtime.']
    return ' '.join(word for word in words if word)


def setup():
    """On Colab, install what d2lrec needs and the runtime lacks, into
    this process, and check that d2lrec imports; elsewhere do nothing."""
    if not on_colab():
        return
    stack, note = choose_stack()
    builds = other_builds(stack)
    if builds:  # one mxnet build at a time: they share their files
        pip('uninstall', '-q', '-y', *builds)
        importlib.invalidate_caches()
    requirements = to_install(stack)
    if requirements:
        pth_before = pth_files()
        pip('install', '-q', '--no-deps', *requirements)
        take_up(pth_before)
    problem = stack_problem(stack)
    if problem:
        raise RuntimeError(f'd2lrec cannot run on this runtime: {problem}')
    if requirements:
        names = [name for name, _, requirement in read_stack(stack)
                 if requirement in requirements]
        print(summary(list(dict.fromkeys(names)), note), flush=True)


if __name__ == '__main__':
    setup()

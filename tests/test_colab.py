"""d2lrec/colab.py, the notebooks' install step on Colab.

Colab itself cannot run here.  These tests call `colab.setup` with a
fake ``google.colab`` module and a stand-in runtime (`Runtime`): the
installed packages are a dict that `colab.installed` reads, and pip,
replaced in ``subprocess.run``, changes that dict and records what it
was asked.  The GPU is a fake ``nvidia-smi`` on the PATH, which runs for
real.  One test lets everything run for real in this environment, where
d2lrec's stack is installed.  tests/test_colab_runtime.py runs the
notebooks' cell, and so this file, for real on a runtime shaped like
today's Colab, with real installs.
"""
import os
import subprocess
import sys
import types

import pytest
from packaging.requirements import Requirement

from d2lrec import colab

PIP = [sys.executable, '-m', 'pip']
INSTALL = PIP + ['install', '-q', '--no-deps']
UNINSTALL = PIP + ['uninstall', '-q', '-y']
CPU = colab.HERE / 'stack.txt'
GPU = colab.HERE / 'stack-cu112.txt'
REAL_RUN = subprocess.run

#: Colab's own versions of the packages d2lrec runs on (not the pins).
COLAB = {'numpy': '2.0.2', 'scipy': '1.16.1', 'pandas': '2.2.2',
         'matplotlib': '3.10.0'}


def pins(stack):
    """``{name: version}`` of `stack` that apply to this Python."""
    return {Requirement(line).name.lower(): version
            for _, version, line in colab.read_stack(stack)
            if Requirement(line).marker is None
            or Requirement(line).marker.evaluate()}


def colab_today():
    """The packages of a new Colab runtime: those of d2lrec's stack that
    only d2lrec uses (mxnet, d2l, the CUDA 11 wheels) are missing, and
    every other one is there, at Colab's version, not the pinned one."""
    found = {name: '0.1' for name in pins(GPU) if not colab.exact(name)}
    return found | COLAB


class Runtime:
    """Stands in for the runtime's packages and ``subprocess.run``, and
    records every command but ``nvidia-smi`` (which runs for real).

    `checks` are the exit codes of the readiness checks (``python -c
    CHECK``), in order; `pip_fails` makes pip exit 1."""

    def __init__(self, packages, checks=(0,), pip_fails=False):
        self.packages = dict(packages)
        self.checks = list(checks)
        self.pip_fails = pip_fails
        self.calls = []

    def run(self, cmd, **kwargs):
        if cmd[0] == 'nvidia-smi':
            return REAL_RUN(cmd, **kwargs)
        self.calls.append(cmd)
        if cmd[1] == '-c':
            stderr = 'Traceback ...\nImportError: mxnet'
            return subprocess.CompletedProcess(cmd, self.checks.pop(0), '',
                                               stderr)
        if self.pip_fails:
            raise subprocess.CalledProcessError(1, cmd)
        if cmd[3] == 'install':
            for line in cmd[6:]:
                req = Requirement(line)
                if req.marker is None or req.marker.evaluate():
                    version = str(req.specifier).removeprefix('==')
                    self.packages[req.name.lower()] = version
        else:  # uninstall
            for name in cmd[6:]:
                del self.packages[name]
        return subprocess.CompletedProcess(cmd, 0)


@pytest.fixture
def nvidia_smi(monkeypatch, tmp_path):
    """Put a fake ``nvidia-smi`` on the PATH that reports one GPU of
    compute capability `cap` (None: no nvidia-smi at all)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    monkeypatch.setenv('PATH', f'{bin_dir}{os.pathsep}/usr/bin:/bin')

    def install(cap):
        if cap is not None:
            smi = bin_dir / 'nvidia-smi'
            smi.write_text(f'#!/bin/sh\necho {cap}\n')
            smi.chmod(0o755)
    return install


@pytest.fixture
def runtime(monkeypatch, tmp_path, nvidia_smi):
    """Run `colab.setup` on Colab (`colab_here`) or elsewhere, with the
    `packages` installed, on a GPU of compute capability `gpu` or none;
    return the `Runtime` that saw it.  ``os.kill`` fails the test, and
    ``sys.prefix`` is `tmp_path`, so that a restart or a file left there
    would show."""
    monkeypatch.setattr(sys, 'prefix', str(tmp_path))

    def kill(pid, signal):
        pytest.fail(f'os.kill({pid}, {signal}): a restart')
    monkeypatch.setattr(os, 'kill', kill)

    def setup(colab_here=True, packages=None, gpu=None, **kwargs):
        if colab_here:
            monkeypatch.setitem(sys.modules, 'google.colab',
                                types.ModuleType('google.colab'))
        else:
            monkeypatch.delitem(sys.modules, 'google.colab', raising=False)
        nvidia_smi(gpu)
        fake = Runtime(colab_today() if packages is None else packages,
                       **kwargs)
        monkeypatch.setattr(subprocess, 'run', fake.run)
        monkeypatch.setattr(colab, 'installed', fake.packages.get)
        colab.setup()
        return fake
    return setup


def check(build='mxnet'):
    """The readiness check's command, for mxnet `build`."""
    return [sys.executable, '-c', 'import d2lrec; from d2l import mxnet; '
            'import importlib.metadata as m; '
            f'm.version({build!r})']


def test_outside_colab_it_does_nothing_and_prints_nothing(runtime, capfd):
    fake = runtime(colab_here=False, gpu='8.0', packages={})
    assert fake.calls == []
    assert capfd.readouterr() == ('', '')


def test_on_a_new_colab_runtime_it_installs_only_what_is_missing(
        runtime, capfd, tmp_path):
    """mxnet and d2l, at the stack's pins, without their dependencies;
    Colab's packages stay; no restart, no file; the check runs last."""
    fake = runtime()
    assert fake.calls == [INSTALL + ['d2l==1.0.3', 'mxnet==1.9.1'],
                          check()]
    assert fake.packages == colab_today() | {'mxnet': '1.9.1',
                                             'd2l': '1.0.3'}
    assert sorted(p.name for p in tmp_path.iterdir()) == ['bin']
    out = capfd.readouterr().out
    assert out == ("d2lrec installed d2l 1.0.3, mxnet 1.9.1, beside "
                   "Colab's numpy 2.0.2, scipy 1.16.1, pandas 2.2.2, "
                   "matplotlib 3.10.0. Ready: the next cells run in this "
                   "same runtime.\n")


def test_every_missing_package_of_the_stack_is_installed(runtime):
    """setuptools missing (a bare Python 3.12 has no distutils, which
    mxnet imports), and requests: each at its pin, and nothing else."""
    packages = colab_today()
    del packages['setuptools'], packages['requests']
    fake = runtime(packages=packages)
    assert fake.calls[0] == INSTALL + ['d2l==1.0.3', 'mxnet==1.9.1',
                                       'requests==2.34.2',
                                       'setuptools==84.2.1']


def test_a_missing_numpy_gets_the_pin_for_this_python(runtime):
    """Both numpy lines go to pip, which takes the one whose marker
    holds: here the stack's numpy for this Python."""
    packages = colab_today()
    del packages['numpy']
    fake = runtime(packages=packages)
    numpy = [line for _, _, line in colab.read_stack(CPU)
             if line.startswith('numpy==')]
    assert len(numpy) == 2 and set(numpy) <= set(fake.calls[0])
    assert fake.packages['numpy'] == pins(CPU)['numpy']


@pytest.mark.parametrize('numpy', ['1.26.4', '2.0.2', '2.5.5', '3.0.0'])
def test_colab_s_numpy_scipy_pandas_and_matplotlib_are_never_replaced(
        runtime, numpy):
    """Whatever their versions: an older one is kept, and one that
    d2lrec cannot run on is left to d2lrec's check to name."""
    packages = colab_today() | {'numpy': numpy, 'scipy': '9.9'}
    fake = runtime(packages=packages)
    assert fake.packages == packages | {'mxnet': '1.9.1', 'd2l': '1.0.3'}


def test_d2lrec_s_reason_is_raised_after_the_install(runtime, capfd):
    """A stack d2lrec cannot run on, such as a future numpy 3: the cell
    installs what is missing, then raises with d2lrec's own reason, the
    last line of the check's error, and prints nothing else."""
    with pytest.raises(RuntimeError, match='^d2lrec cannot run on this '
                                           'runtime: ImportError: mxnet$'):
        runtime(checks=[1])
    assert capfd.readouterr().out == ''


def test_a_pip_that_fails_raises(runtime):
    """pip's own error is in the cell's output; the cell stops there."""
    with pytest.raises(subprocess.CalledProcessError):
        runtime(pip_fails=True)


def test_a_ready_runtime_installs_nothing_and_prints_nothing(runtime,
                                                              capfd):
    fake = runtime(packages=colab_today() | {'mxnet': '1.9.1',
                                             'd2l': '1.0.3'})
    assert fake.calls == [check()]
    assert capfd.readouterr() == ('', '')


@pytest.mark.parametrize('name, old', [('mxnet', '1.8.0'),
                                       ('d2l', '0.17.6')])
def test_mxnet_and_d2l_of_another_version_are_replaced(runtime, name,
                                                       old):
    ready = colab_today() | {'mxnet': '1.9.1', 'd2l': '1.0.3'}
    fake = runtime(packages=ready | {name: old})
    assert fake.calls[0] == INSTALL + [f'{name}=={pins(CPU)[name]}']
    assert fake.packages == ready


CUDA_WHEELS = [f'{name}=={version}' for name, version in pins(GPU).items()
               if name.endswith('-cu11')]


@pytest.mark.parametrize('cap', ['5.0', '7.5', '8.0', '8.6', '8.9'])
@pytest.mark.parametrize('mxnet', [None, 'mxnet', 'mxnet-cu112'])
def test_a_gpu_mxnet_cu112_runs_gets_mxnet_cu112_and_cuda_11(runtime,
                                                             capfd, cap,
                                                             mxnet):
    """T4 7.5, A100 8.0, L4 8.9, ...: mxnet-cu112 and NVIDIA's CUDA 11
    wheels.  CPU mxnet, if there, goes first: one build at a time."""
    packages = colab_today() | ({mxnet: '1.9.1'} if mxnet else {})
    install = INSTALL + ['d2l==1.0.3', 'mxnet-cu112==1.9.1', *CUDA_WHEELS]
    if mxnet == 'mxnet-cu112':  # with its CUDA wheels: only d2l is missing
        packages |= dict(wheel.split('==') for wheel in CUDA_WHEELS)
        install = INSTALL + ['d2l==1.0.3']
    fake = runtime(packages=packages, gpu=cap)
    assert fake.calls == ([UNINSTALL + ['mxnet']] if mxnet == 'mxnet'
                          else []) + [install, check('mxnet-cu112')]
    assert 'mxnet' not in fake.packages
    assert fake.packages['mxnet-cu112'] == '1.9.1'
    if mxnet != 'mxnet-cu112':
        assert ("d2lrec installed d2l 1.0.3, mxnet-cu112 1.9.1, NVIDIA's "
                "CUDA 11 libraries (9 wheels), beside Colab's numpy"
                in capfd.readouterr().out)


@pytest.mark.parametrize('cap', ['9.0', '10.0', '12.0', '3.7'])
def test_a_gpu_mxnet_cu112_cannot_run_gets_cpu_mxnet(runtime, capfd,
                                                     cap):
    """Hopper (H100, 9.0) and newer, and Kepler (K80, 3.7): no kernels
    in mxnet-cu112, so CPU mxnet, and the cell says why."""
    fake = runtime(gpu=cap)
    assert fake.calls == [INSTALL + ['d2l==1.0.3', 'mxnet==1.9.1'],
                          check()]
    out = capfd.readouterr().out
    assert (f'This GPU (compute capability {cap}) cannot run mxnet-cu112 '
            f'1.9.1, which has kernels for sm_50 to sm_86 only, so CPU '
            f'mxnet is installed') in out


def test_nvidia_smi_without_a_gpu_means_cpu_mxnet(runtime, tmp_path):
    """nvidia-smi present, but it finds no GPU (it prints an error)."""
    smi = tmp_path / 'bin' / 'nvidia-smi'
    smi.write_text('#!/bin/sh\necho "No devices were found"; exit 6\n')
    smi.chmod(0o755)
    fake = runtime()
    assert fake.calls[0] == INSTALL + ['d2l==1.0.3', 'mxnet==1.9.1']


@pytest.mark.parametrize('builds', [['mxnet-cu112'],
                                    ['mxnet', 'mxnet-cu112']])
def test_mxnet_cu112_on_a_cpu_runtime_is_replaced_by_cpu_mxnet(runtime,
                                                               builds):
    """No driver: mxnet-cu112 could not start.  With both builds there
    (their files overlap), both go, then CPU mxnet alone comes back."""
    packages = colab_today() | dict.fromkeys(builds, '1.9.1')
    fake = runtime(packages=packages)
    assert fake.calls[:2] == [UNINSTALL + builds,
                              INSTALL + ['d2l==1.0.3', 'mxnet==1.9.1']]
    assert 'mxnet-cu112' not in fake.packages
    assert fake.packages['mxnet'] == '1.9.1'


def test_only_d2lrec_s_own_packages_are_pinned_exactly():
    """The stack files' packages at an exact version: those only d2lrec
    uses, never Colab's."""
    cpu = {name for name in pins(CPU) if colab.exact(name)}
    gpu = {name for name in pins(GPU) if colab.exact(name)}
    assert cpu == {'mxnet', 'd2l'}
    assert gpu - cpu == {'mxnet-cu112'} | {w.split('==')[0]
                                           for w in CUDA_WHEELS}
    assert len(CUDA_WHEELS) == 9
    assert set(colab.COLAB_KEEPS) <= set(pins(CPU)) - cpu


def test_take_up_runs_only_the_new_pth_files(monkeypatch, tmp_path):
    """As Python would at start: each .pth file that pip added runs
    (setuptools' makes distutils importable); older ones do not run
    again."""
    monkeypatch.setattr(colab, 'site_dirs', lambda: [str(tmp_path)])
    monkeypatch.setenv('D2LREC_PTH', '')
    line = ("import os; os.environ['D2LREC_PTH'] += '{}'\n")
    (tmp_path / 'old.pth').write_text(line.format('old'))
    before = colab.pth_files()
    (tmp_path / 'new.pth').write_text(line.format('new'))
    colab.take_up(before)
    assert os.environ['D2LREC_PTH'] == 'new'


def test_on_a_ready_runtime_it_runs_for_real_and_does_nothing(
        monkeypatch, capfd, tmp_path):
    """This environment has d2lrec's stack: nothing is missing, and the
    check, run for real, passes (no nvidia-smi here: CPU mxnet)."""
    monkeypatch.setitem(sys.modules, 'google.colab',
                        types.ModuleType('google.colab'))
    monkeypatch.setenv('PATH', '/usr/bin:/bin')
    monkeypatch.setattr(sys, 'prefix', str(tmp_path))
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        return REAL_RUN(cmd, **kwargs)
    monkeypatch.setattr(subprocess, 'run', run)
    assert colab.to_install(CPU) == []
    colab.setup()
    assert [cmd[0] for cmd in calls] == ['nvidia-smi', sys.executable]
    assert calls[1][1] == '-c'
    assert capfd.readouterr() == ('', '')
    assert list(tmp_path.iterdir()) == []


def test_it_runs_as_a_script_without_importing_d2lrec():
    """The cell runs colab.py as a file; it imports nothing of d2lrec's
    (whose __init__ raises on Colab before the install), and does
    nothing here."""
    code = ('import runpy, sys; runpy.run_path(sys.argv[1], '
            'run_name="__main__"); '
            'print(sorted(m for m in sys.modules if m.split(".")[0] '
            '== "d2lrec"))')
    out = REAL_RUN([sys.executable, '-c', code, str(colab.HERE /
                                                    'colab.py')],
                   capture_output=True, text=True)
    assert (out.returncode, out.stdout, out.stderr) == (0, '[]\n', '')

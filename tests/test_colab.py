"""d2lrec/colab.py, the notebooks' install step on Colab.

Colab itself cannot run here.  These tests call `colab.setup` with a
fake ``google.colab`` module, with ``subprocess.run`` and ``os.kill``
replaced (they record what would run), and with a stand-in GPU: a fake
``nvidia-smi`` on the PATH, which runs for real.  One test lets the
readiness check run for real, in this environment, as it would after
Colab's restart.  tests/test_colab_runtime.py runs the notebooks' cell,
and so this file, for real on a runtime shaped like today's Colab.
"""
import os
import subprocess
import sys
import types

import pytest

from d2lrec import colab

PIP = [sys.executable, '-m', 'pip']
CPU = str(colab.HERE / 'stack.txt')
GPU = str(colab.HERE / 'stack-cu112.txt')
REAL_RUN = subprocess.run


class Machine:
    """Stands in for ``subprocess.run`` and ``os.kill``, and records.

    `checks` are the exit codes of the readiness checks (``python -c
    CHECK``), in order; None runs the check for real.  ``nvidia-smi``
    runs for real (a fake one, when a test puts it on the PATH)."""

    def __init__(self, checks=()):
        self.checks = list(checks)
        self.calls = []
        self.killed = []

    def run(self, cmd, **kwargs):
        if cmd[0] == 'nvidia-smi':
            return REAL_RUN(cmd, **kwargs)
        self.calls.append(cmd)
        if cmd[1] == '-c':
            code = self.checks.pop(0)
            if code is None:
                return REAL_RUN(cmd, **kwargs)
            return subprocess.CompletedProcess(cmd, code, '',
                                               'ImportError: mxnet')
        return subprocess.CompletedProcess(cmd, 0)

    def kill(self, pid, signal):
        self.killed.append((pid, signal))


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
def machine(monkeypatch, tmp_path, nvidia_smi):
    """Run `colab.setup` on Colab (`colab=True`) or elsewhere, on a GPU
    of compute capability `gpu` or none; return the `Machine` that saw
    it.  The mark of a restart goes to `tmp_path` (under sys.prefix)."""
    monkeypatch.setattr(sys, 'prefix', str(tmp_path))

    def setup(colab_here, checks=(), gpu=None):
        if colab_here:
            monkeypatch.setitem(sys.modules, 'google.colab',
                                types.ModuleType('google.colab'))
        else:
            monkeypatch.delitem(sys.modules, 'google.colab', raising=False)
        nvidia_smi(gpu)
        fake = Machine(checks)
        monkeypatch.setattr(subprocess, 'run', fake.run)
        monkeypatch.setattr(os, 'kill', fake.kill)
        colab.setup()
        return fake
    return setup


def test_outside_colab_it_does_nothing_and_prints_nothing(machine, capfd):
    fake = machine(colab_here=False, gpu='8.0')
    assert fake.calls == [] and fake.killed == []
    assert capfd.readouterr() == ('', '')


def test_on_a_new_colab_runtime_it_installs_then_restarts(machine, capfd,
                                                           tmp_path):
    fake = machine(colab_here=True, checks=[1, 0])
    check = [sys.executable, '-c', fake.calls[0][2]]
    assert "m.version('mxnet')" in check[2]
    install = PIP + ['install', '-q', '--no-deps', '-r', CPU]
    assert fake.calls == [check, install, check]
    assert fake.killed == [(os.getpid(), 9)]
    assert (tmp_path / 'd2lrec-restarted').exists()
    out = capfd.readouterr().out
    assert 'stack.txt: numpy 1.26.4, mxnet 1.9.1' in out
    assert 'Restarting the runtime' in out
    assert 'run all cells again' in out


@pytest.mark.parametrize('cap', ['5.0', '7.5', '8.0', '8.6', '8.9'])
def test_on_a_gpu_runtime_it_installs_the_gpu_stack(machine, capfd, cap):
    """A GPU that mxnet-cu112 can run (T4 7.5, A100 8.0, L4 8.9, ...):
    the CPU build, installed here, goes first, then the GPU stack."""
    fake = machine(colab_here=True, checks=[1, 0], gpu=cap)
    assert "m.version('mxnet-cu112')" in fake.calls[0][2]
    assert fake.calls[1:3] == [
        PIP + ['uninstall', '-q', '-y', 'mxnet'],
        PIP + ['install', '-q', '--no-deps', '-r', GPU]]
    assert fake.killed == [(os.getpid(), 9)]
    assert 'stack-cu112.txt: numpy 1.26.4, mxnet-cu112 1.9.1' in (
        capfd.readouterr().out)


@pytest.mark.parametrize('cap', ['9.0', '10.0', '3.7'])
def test_a_gpu_mxnet_cu112_cannot_run_gets_the_cpu_stack(machine, capfd,
                                                         cap):
    """Hopper (H100, 9.0) and newer, and Kepler (K80, 3.7): no kernels
    in mxnet-cu112, so the CPU stack, and the cell says why."""
    fake = machine(colab_here=True, checks=[1, 0], gpu=cap)
    assert fake.calls[1] == PIP + ['install', '-q', '--no-deps', '-r', CPU]
    out = capfd.readouterr().out
    assert (f'This GPU (compute capability {cap}) cannot run mxnet-cu112 '
            f'1.9.1, which has kernels for sm_50 to sm_86 only') in out


def test_nvidia_smi_without_a_gpu_means_the_cpu_stack(machine, tmp_path):
    """nvidia-smi present, but it finds no GPU (it prints an error)."""
    smi = tmp_path / 'bin' / 'nvidia-smi'
    smi.write_text('#!/bin/sh\necho "No devices were found"; exit 6\n')
    smi.chmod(0o755)
    fake = machine(colab_here=True, checks=[1, 0])
    assert fake.calls[1][-1] == CPU


def test_with_numpy_2_in_memory_it_installs_without_asking(machine,
                                                           monkeypatch):
    monkeypatch.setitem(sys.modules, 'numpy',
                        types.SimpleNamespace(__version__='2.0.2'))
    fake = machine(colab_here=True, checks=[0])
    assert fake.calls[0] == PIP + ['install', '-q', '--no-deps', '-r', CPU]
    assert len(fake.calls) == 2 and fake.calls[1][1] == '-c'
    assert fake.killed == [(os.getpid(), 9)]


def test_after_the_restart_it_does_nothing(machine, capfd):
    """The readiness check runs for real: numpy < 2 here, and d2lrec, mxnet
    and d2l import, as on Colab after the install and restart."""
    fake = machine(colab_here=True, checks=[None])
    assert len(fake.calls) == 1 and fake.killed == []
    assert capfd.readouterr() == ('', '')


def test_if_the_install_does_not_work_it_says_so_and_keeps_running(machine):
    with pytest.raises(RuntimeError, match='did not work: ImportError: '
                                           'mxnet'):
        machine(colab_here=True, checks=[1, 1])


def test_it_never_restarts_twice(machine, tmp_path):
    """After one restart, a stack that is still wrong is reported, with
    d2lrec's message, instead of installing and restarting again."""
    (tmp_path / 'd2lrec-restarted').touch()
    with pytest.raises(RuntimeError, match='still wrong: ImportError: '
                                           'mxnet'):
        machine(colab_here=True, checks=[1, 1])


def test_numpy_2_still_loaded_after_the_restart_is_reported(machine,
                                                            monkeypatch,
                                                            tmp_path):
    (tmp_path / 'd2lrec-restarted').touch()
    monkeypatch.setitem(sys.modules, 'numpy',
                        types.SimpleNamespace(__version__='2.0.2'))
    with pytest.raises(RuntimeError, match='numpy 2.0.2 is loaded'):
        machine(colab_here=True, checks=[0])


def test_it_runs_as_a_script_without_importing_d2lrec():
    """The cell runs colab.py as a file; it imports nothing of d2lrec's
    (whose __init__ raises on Colab's numpy 2), and does nothing here."""
    code = ('import runpy, sys; runpy.run_path(sys.argv[1], '
            'run_name="__main__"); '
            'print(sorted(m for m in sys.modules if m.split(".")[0] '
            '== "d2lrec"))')
    out = REAL_RUN([sys.executable, '-c', code, str(colab.HERE /
                                                    'colab.py')],
                   capture_output=True, text=True)
    assert (out.returncode, out.stdout, out.stderr) == (0, '[]\n', '')

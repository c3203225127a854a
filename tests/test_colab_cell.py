"""The notebooks' first code cell: install on Colab, nothing elsewhere.

Colab itself cannot run here.  These tests execute the cell's source with
a fake ``google.colab`` module and with ``subprocess.run`` and ``os.kill``
replaced, and check what it would run; one test lets its readiness check
run for real, in this environment, as it would after Colab's restart.
"""
import os
import pathlib
import subprocess
import sys
import types

import nbformat
import pytest

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / 'notebooks').glob('*.ipynb'))
PIP = [sys.executable, '-m', 'pip', 'install', '-q']
INSTALL_STACK = PIP + ['numpy==1.26.4', 'setuptools', 'mxnet==1.9.1',
                     'pandas', 'matplotlib']
INSTALL_OURS = PIP + ['--no-deps', 'd2l==1.0.3',
                      'git+https://github.com/d2lrec/d2lrec']


def first_code_cell(path):
    cells = nbformat.read(path, as_version=4).cells
    return next(c for c in cells if c.cell_type == 'code')


CELL = first_code_cell(NOTEBOOKS[0]).source


def test_every_notebook_starts_with_the_same_silent_install_cell():
    assert len(NOTEBOOKS) >= 2
    for path in NOTEBOOKS:
        cell = first_code_cell(path)
        assert cell.source == CELL, path.name
        assert cell.outputs == [], path.name


class Machine:
    """Stands in for ``subprocess.run`` and ``os.kill``, and records.

    `checks` are the exit codes of the cell's readiness checks
    (``python -c CHECK``), in order; None runs the check for real."""

    def __init__(self, checks=()):
        self.checks = list(checks)
        self.calls = []
        self.killed = []

    def run(self, cmd, **kwargs):
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


REAL_RUN = subprocess.run


@pytest.fixture
def machine(monkeypatch):
    """Run the cell on Colab (`colab=True`) or elsewhere; return the
    `Machine` that saw it."""
    def run_cell(colab, checks=()):
        if colab:
            monkeypatch.setitem(sys.modules, 'google.colab',
                                types.ModuleType('google.colab'))
        else:
            monkeypatch.delitem(sys.modules, 'google.colab', raising=False)
        fake = Machine(checks)
        monkeypatch.setattr(subprocess, 'run', fake.run)
        monkeypatch.setattr(os, 'kill', fake.kill)
        exec(compile(CELL, 'install cell', 'exec'), {'__name__': '__main__'})
        return fake
    return run_cell


def test_outside_colab_it_does_nothing_and_prints_nothing(machine, capfd):
    fake = machine(colab=False)
    assert fake.calls == [] and fake.killed == []
    assert capfd.readouterr() == ('', '')


def test_on_a_new_colab_runtime_it_installs_then_restarts(machine, capfd):
    fake = machine(colab=True, checks=[1, 0])
    check = [sys.executable, '-c', fake.calls[0][2]]
    assert fake.calls == [check, INSTALL_STACK, INSTALL_OURS, check]
    assert fake.killed == [(os.getpid(), 9)]
    out = capfd.readouterr().out
    assert 'Restarting the runtime' in out
    assert 'run all cells again' in out


def test_with_numpy_2_in_memory_it_installs_without_asking(machine,
                                                           monkeypatch):
    monkeypatch.setitem(sys.modules, 'numpy',
                        types.SimpleNamespace(__version__='2.0.2'))
    fake = machine(colab=True, checks=[0])
    assert fake.calls[:2] == [INSTALL_STACK, INSTALL_OURS]
    assert len(fake.calls) == 3 and fake.calls[2][1] == '-c'
    assert fake.killed == [(os.getpid(), 9)]


def test_after_the_restart_it_does_nothing(machine, capfd):
    """The readiness check runs for real: numpy < 2 here, and d2lrec, mxnet
    and d2l import, as on Colab after the install and restart."""
    fake = machine(colab=True, checks=[None])
    assert len(fake.calls) == 1 and fake.killed == []
    assert capfd.readouterr() == ('', '')


def test_if_the_install_does_not_work_it_says_so_and_keeps_running(machine):
    with pytest.raises(RuntimeError, match='ImportError: mxnet'):
        machine(colab=True, checks=[1, 1])


def test_it_installs_the_numpy126_environment_pins():
    pins = {}
    for line in (ROOT / 'requirements-numpy126.txt').read_text().splitlines():
        name, sep, version = line.partition('==')
        if sep:
            pins[name.lower()] = version
    for spec in ('numpy==1.26.4', 'mxnet==1.9.1', 'd2l==1.0.3'):
        name, _, version = spec.partition('==')
        assert pins[name] == version

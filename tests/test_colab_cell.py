"""The notebooks' first code cell: install on Colab, nothing elsewhere.

Colab itself cannot run here.  These tests execute the cell's source with
a fake ``google.colab`` module and with ``subprocess.run`` and ``os.kill``
replaced, and check what it would run; one test lets its readiness check
run for real, in this environment, as it would after Colab's restart.
tests/test_colab_runtime.py runs the cell for real, on a runtime shaped
like today's Colab.
"""
import os
import pathlib
import re
import subprocess
import sys
import types

import nbformat
import pytest
import tomllib

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / 'notebooks').glob('*.ipynb'))
PIP = [sys.executable, '-m', 'pip', 'install', '-q', '--no-deps']
STACK = str(ROOT / 'd2lrec' / 'stack.txt')


def first_code_cell(path):
    cells = nbformat.read(path, as_version=4).cells
    return next(c for c in cells if c.cell_type == 'code')


CELL = first_code_cell(NOTEBOOKS[0]).source
SOURCE = re.search(r"SOURCE = '([^']+)'", CELL)[1]
INSTALL = [PIP + [SOURCE], PIP + ['-r', STACK]]
BADGE = 'https://colab.research.google.com/assets/colab-badge.svg'


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
def machine(monkeypatch, tmp_path):
    """Run the cell on Colab (`colab=True`) or elsewhere; return the
    `Machine` that saw it.  The cell's mark of a restart goes to
    `tmp_path` (it keeps it under ``sys.prefix``)."""
    monkeypatch.setattr(sys, 'prefix', str(tmp_path))

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


def test_on_a_new_colab_runtime_it_installs_then_restarts(machine, capfd,
                                                           tmp_path):
    fake = machine(colab=True, checks=[1, 0])
    check = [sys.executable, '-c', fake.calls[0][2]]
    assert fake.calls == [check, *INSTALL, check]
    assert fake.killed == [(os.getpid(), 9)]
    assert (tmp_path / 'd2lrec-restarted').exists()
    out = capfd.readouterr().out
    assert 'Restarting the runtime' in out
    assert 'run all cells again' in out


def test_with_numpy_2_in_memory_it_installs_without_asking(machine,
                                                           monkeypatch):
    monkeypatch.setitem(sys.modules, 'numpy',
                        types.SimpleNamespace(__version__='2.0.2'))
    fake = machine(colab=True, checks=[0])
    assert fake.calls[:2] == INSTALL
    assert len(fake.calls) == 3 and fake.calls[2][1] == '-c'
    assert fake.killed == [(os.getpid(), 9)]


def test_after_the_restart_it_does_nothing(machine, capfd):
    """The readiness check runs for real: numpy < 2 here, and d2lrec, mxnet
    and d2l import, as on Colab after the install and restart."""
    fake = machine(colab=True, checks=[None])
    assert len(fake.calls) == 1 and fake.killed == []
    assert capfd.readouterr() == ('', '')


def test_if_the_install_does_not_work_it_says_so_and_keeps_running(machine):
    with pytest.raises(RuntimeError, match='did not work: ImportError: '
                                           'mxnet'):
        machine(colab=True, checks=[1, 1])


def test_it_never_restarts_twice(machine, tmp_path):
    """After one restart, a stack that is still wrong is reported, with
    d2lrec's message, instead of installing and restarting again."""
    (tmp_path / 'd2lrec-restarted').touch()
    with pytest.raises(RuntimeError, match='still wrong: ImportError: '
                                           'mxnet'):
        machine(colab=True, checks=[1, 1])


def test_numpy_2_still_loaded_after_the_restart_is_reported(machine,
                                                            monkeypatch,
                                                            tmp_path):
    (tmp_path / 'd2lrec-restarted').touch()
    monkeypatch.setitem(sys.modules, 'numpy',
                        types.SimpleNamespace(__version__='2.0.2'))
    with pytest.raises(RuntimeError, match='numpy 2.0.2 is loaded'):
        machine(colab=True, checks=[0])


def test_colab_links_and_install_source_follow_pyproject():
    """The repository's address is set once, in pyproject.toml's
    [project.urls]; every notebook's Colab link and install cell use it."""
    urls = tomllib.loads((ROOT / 'pyproject.toml').read_text())
    repository = urls['project']['urls']['Repository']
    assert SOURCE == f'git+{repository}'
    github = repository.removeprefix('https://github.com/')
    for path in NOTEBOOKS:
        link = (f'https://colab.research.google.com/github/{github}/blob/'
                f'main/notebooks/{path.name}')
        intro = nbformat.read(path, as_version=4).cells[0].source
        assert f'[![Open In Colab]({BADGE})]({link})' in intro, path.name

"""The notebooks' first code cell: on Colab, install d2lrec if needed and
run d2lrec/colab.py (tests/test_colab.py tests that); elsewhere nothing.

These tests check the cell's shape and run it with a fake
``google.colab`` module, with ``subprocess.run`` replaced and ``os.kill``
failing the test (the cell never restarts the runtime).
tests/test_colab_runtime.py runs it for real, on runtimes shaped like
today's Colab and the next one.
"""
import importlib.util
import os
import pathlib
import re
import runpy
import subprocess
import sys
import types

import nbformat
import pytest
import tomllib

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / 'notebooks').glob('*.ipynb'))
BADGE = 'https://colab.research.google.com/assets/colab-badge.svg'


def first_code_cell(path):
    cells = nbformat.read(path, as_version=4).cells
    return next(c for c in cells if c.cell_type == 'code')


CELL = first_code_cell(NOTEBOOKS[0]).source
SOURCE = re.search(r"'(git\+https://[^']+)'", CELL)[1]


def test_every_notebook_starts_with_the_same_short_silent_cell():
    assert len(NOTEBOOKS) >= 2
    for path in NOTEBOOKS:
        cell = first_code_cell(path)
        assert cell.source == CELL, path.name
        assert cell.outputs == [], path.name
    lines = CELL.splitlines()
    assert len(lines) <= 8
    assert max(map(len, lines)) <= 79
    assert CELL in (ROOT / 'docs' / 'colab.md').read_text()


class Machine:
    """Stands in for ``subprocess.run``, and records.  Python's own
    ``-c`` checks, and ``nvidia-smi``, run for real."""

    def __init__(self):
        self.calls = []

    def run(self, cmd, **kwargs):
        if cmd[0] == 'nvidia-smi' or cmd[1] == '-c':
            return REAL_RUN(cmd, **kwargs)
        self.calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)


REAL_RUN = subprocess.run


@pytest.fixture
def run_cell(monkeypatch, tmp_path):
    """Run the cell on Colab (`colab=True`) or elsewhere; return the
    `Machine` that saw it."""
    def kill(pid, signal):
        pytest.fail(f'os.kill({pid}, {signal}): a restart')

    monkeypatch.setattr(sys, 'prefix', str(tmp_path))
    monkeypatch.setenv('PATH', '/usr/bin:/bin')  # no nvidia-smi: a CPU

    def run(colab):
        if colab:
            monkeypatch.setitem(sys.modules, 'google.colab',
                                types.ModuleType('google.colab'))
        else:
            monkeypatch.delitem(sys.modules, 'google.colab', raising=False)
        fake = Machine()
        monkeypatch.setattr(subprocess, 'run', fake.run)
        monkeypatch.setattr(os, 'kill', kill)
        exec(compile(CELL, 'install cell', 'exec'), {'__name__': '__main__'})
        return fake
    return run


def test_outside_colab_it_does_nothing_and_prints_nothing(run_cell, capfd):
    fake = run_cell(colab=False)
    assert fake.calls == []
    assert capfd.readouterr() == ('', '')


def test_on_colab_with_d2lrec_ready_it_runs_colab_py(run_cell, capfd,
                                                     monkeypatch):
    """d2lrec and its stack are installed here, as on Colab after the
    cell's first run: colab.py finds nothing missing, its readiness
    check passes, and nothing else happens."""
    ran = []
    real = runpy.run_path

    def run_path(path, **kwargs):
        ran.append(path)
        return real(path, **kwargs)
    monkeypatch.setattr(runpy, 'run_path', run_path)
    fake = run_cell(colab=True)
    assert ran == [str(ROOT / 'd2lrec' / 'colab.py')]
    assert fake.calls == []
    assert capfd.readouterr() == ('', '')


def test_on_colab_without_d2lrec_it_installs_d2lrec_first(run_cell,
                                                          monkeypatch):
    """d2lrec is missing at first: the cell pip-installs it from the
    repository, without dependencies, then finds it and runs colab.py,
    which here has nothing to install."""
    real = importlib.util.find_spec
    looked = []

    def find_spec(name, *args):  # d2lrec: missing at the first look
        looked.append(name)
        return None if looked == ['d2lrec'] else real(name, *args)
    monkeypatch.setattr(importlib.util, 'find_spec', find_spec)
    fake = run_cell(colab=True)
    assert fake.calls == [[sys.executable, '-m', 'pip', 'install', '-q',
                           '--no-deps', SOURCE]]


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

"""Today's Colab, simulated: the notebooks' first cell on a runtime with
the newest numpy 2, scipy, pandas, matplotlib and IPython (``make
test-colab``, part of ``make test``; skipped unless D2LREC_COLAB_PYTHON
names a Python 3.12, as Colab's).

1. A fresh Python 3.12 venv with the newest numpy, scipy, pandas,
   matplotlib, IPython and ipykernel installed first, unpinned, as Colab
   has them (and nbval and pytest, to run the notebook).
2. A stand-in ``google.colab`` package, imported at the kernel's start
   (an IPython startup file), as on Colab.
3. The first code cell of notebook 02, run as it is, with google.colab
   and numpy 2 loaded: it installs d2lrec, which is missing, and runs
   its d2lrec/colab.py, which installs the CPU stack (there is no
   nvidia-smi here; tests/test_colab.py fakes one for the GPU stack).
   Only the install source of d2lrec is pointed at this checkout, by
   git's ``url.<base>.insteadOf``: pip clones the checkout's committed
   HEAD where Colab clones GitHub.
4. The restart: the cell kills its process; a new process runs it again.
5. Notebook 02 under nbval in that venv, against its committed outputs.

Before the cell, ``import d2lrec`` and ``python -m d2lrec`` must name
the stack's real faults there (numpy 2, a numpy-2-only scipy, no
setuptools on Python 3.12).  It cannot cover the real Colab (its own
packages and kernel, preloaded modules, network) or its GPU runtime.
"""
import json
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).parents[1]
PYTHON = os.environ.get('D2LREC_COLAB_PYTHON')
NOTEBOOK = ROOT / 'notebooks' / '02-autorec.ipynb'
COLAB_HAS = ['numpy', 'scipy', 'pandas', 'matplotlib', 'ipython',
             'ipykernel']
pytestmark = pytest.mark.skipif(
    not PYTHON, reason='make test-colab runs it (needs a Python 3.12)')


def first_code_cell():
    cells = json.loads(NOTEBOOK.read_text())['cells']
    return ''.join(next(c for c in cells
                        if c['cell_type'] == 'code')['source'])


def run(*args, timeout=900, **kwargs):
    return subprocess.run(args, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


@pytest.fixture(scope='module')
def colab(tmp_path_factory):
    """The runtime: its venv's python and the environment to run it in."""
    venv = ROOT / '.venv-colab'
    made = run(PYTHON, '-m', 'venv', '--clear', str(venv))
    assert made.returncode == 0, made.stderr
    python = str(venv / 'bin' / 'python')
    version = run(python, '-c', 'import sys; print(sys.version_info[:2])')
    assert version.stdout.strip() == '(3, 12)', 'Colab runs Python 3.12'
    installed = run(python, '-m', 'pip', 'install', '-q', '--upgrade',
                    *COLAB_HAS, 'nbval', 'pytest')
    assert installed.returncode == 0, installed.stderr
    site = run(python, '-c', 'import sysconfig; '
                             'print(sysconfig.get_paths()["purelib"])')
    stand_in = pathlib.Path(site.stdout.strip(), 'google', 'colab')
    stand_in.mkdir(parents=True)
    (stand_in / '__init__.py').write_text('"""A stand-in for Colab."""\n')
    ipython_dir = tmp_path_factory.mktemp('ipython')
    startup = ipython_dir / 'profile_default' / 'startup'
    startup.mkdir(parents=True)
    (startup / '00-colab.py').write_text('import google.colab\n')
    source = re.search(r"'git\+([^']+)'", first_code_cell())[1]
    env = dict(os.environ, IPYTHONDIR=str(ipython_dir),
               GIT_CONFIG_COUNT='1',
               GIT_CONFIG_KEY_0=f'url.{ROOT}.insteadOf',
               GIT_CONFIG_VALUE_0=source)
    env.pop('PYTHONPATH', None)
    return python, env


def test_numpy_2_and_google_colab_are_what_colab_has(colab):
    python, env = colab
    out = run(python, '-c', 'import numpy, scipy; print(numpy.__version__)',
              env=env)
    assert out.returncode == 0 and out.stdout.startswith('2.'), out
    shell = run(python, '-m', 'IPython', '-c',
                'import sys; print("google.colab" in sys.modules)', env=env)
    assert shell.stdout.strip().splitlines()[-1] == 'True', shell


def test_before_the_cell_d2lrec_names_the_faults(colab):
    """``import d2lrec`` and ``python -m d2lrec``, from this checkout, on
    the runtime as Colab has it: the real faults, and the fix."""
    python, env = colab
    env = dict(env, PYTHONPATH=str(ROOT))
    imported = run(python, '-c', 'import d2lrec', env=env)
    assert imported.returncode == 1
    message = imported.stderr.splitlines()[-1]
    assert message.startswith('d2lrec._compat.StackError: ')
    for fault in (r'numpy 2\.\d+\.\d+ is installed, but mxnet 1\.9\.1 '
                  r'needs numpy < 2',
                  r'scipy 1\.\d+\.\d+ requires numpy[^;]*>=2',
                  r'Python 3\.12\.\d+ has no distutils',
                  r'Fix: pip install numpy==1\.26\.4 scipy==1\.17\.1 '):
        assert re.search(fault, message), (fault, message)
    cli = run(python, '-m', 'd2lrec', 'train', env=env)
    assert cli.returncode == 1
    assert cli.stderr == f'd2lrec: error: {message.split(": ", 1)[1]}\n'


def test_the_cell_installs_restarts_once_then_does_nothing(colab):
    python, env = colab
    cell = 'import google.colab, numpy  # as in Colab\'s kernel\n'
    cell += first_code_cell()
    first = run(python, '-c', cell, env=env)
    assert first.returncode == -9, first.stderr  # the restart
    assert 'Restarting the runtime now' in first.stdout
    again = run(python, '-c', cell, env=env)
    assert (again.returncode, again.stdout, again.stderr) == (0, '', '')
    versions = run(python, '-m', 'pip', 'list', '--format=json', env=env)
    found = {p['name'].lower(): p['version']
             for p in json.loads(versions.stdout)}
    pins = dict(line.split('==') for line in
                (ROOT / 'd2lrec' / 'stack.txt').read_text().splitlines()
                if '==' in line and not line.startswith('#'))
    assert {name: found.get(name) for name in pins} == pins


def test_notebook_02_runs_under_nbval_after_the_restart(colab):
    python, env = colab
    out = run(python, '-m', 'pytest', '--nbval', '--nbval-current-env',
              '-p', 'no:cacheprovider', str(NOTEBOOK.relative_to(ROOT)),
              cwd=ROOT, env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]

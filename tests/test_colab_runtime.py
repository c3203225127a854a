"""Colab, simulated: the notebooks' first cell on a runtime with the
newest numpy 2, scipy, pandas, matplotlib and IPython, then training in
the same process (``make test-colab``, part of ``make test``; skipped
unless D2LREC_COLAB_PYTHONS names Pythons, separated by spaces: Colab's
3.12, and 3.13 for the Colab that comes next; either one missing is a
skip, and in CI a failure).  For each Python:

1. A fresh venv with the newest numpy 2, scipy, pandas, matplotlib,
   IPython and ipykernel installed first, unpinned, as Colab has them
   (and nbval and pytest, to run the notebook).  Unlike Colab, it has
   no setuptools (so no distutils, which mxnet imports) and no requests:
   the cell must install them.
2. A stand-in ``google.colab`` package, imported at the kernel's start
   (an IPython startup file), as on Colab.
3. Before the cell, ``import d2lrec`` and ``python -m d2lrec`` name the
   runtime's real faults (no distutils, no mxnet), and not numpy 2.
4. The first code cell of notebook 02, run as it is, in a process that
   has imported google.colab and numpy 2, as Colab's kernel has: it
   installs d2lrec, which is missing, and runs its d2lrec/colab.py,
   which installs what else is missing (there is no nvidia-smi here:
   CPU mxnet; tests/test_colab.py fakes one for the GPU rows).  Only the
   install source of d2lrec is pointed at this checkout, by git's
   ``url.<base>.insteadOf``: pip clones the checkout's committed HEAD
   where Colab clones GitHub.  Then, in the same process, with the same
   numpy 2 still loaded, ``import d2lrec`` and the chapter's training
   run: its test RMSE and every epoch's loss must be this environment's
   (``python -m d2lrec train``), bit for bit.
5. The cell again, in a new process: it installs nothing and prints
   nothing; Colab's numpy, scipy, pandas and matplotlib are as they
   were, and what the cell installed (mxnet, d2l, setuptools, ...) is
   at d2lrec/stack.txt's pins.
6. Notebook 02 under nbval in that venv, against its committed outputs.

It cannot cover the real Colab (its own packages and kernel, preloaded
modules, network) or its GPU runtime.
"""
import json
import os
import pathlib
import re
import subprocess

import pytest

from support import train_json

ROOT = pathlib.Path(__file__).parents[1]
PYTHONS = os.environ.get('D2LREC_COLAB_PYTHONS', '').split()
NOTEBOOK = ROOT / 'notebooks' / '02-autorec.ipynb'
#: What Colab has before the cell, newest releases (numpy 2, not 3).
COLAB_HAS = ['numpy<3', 'scipy', 'pandas', 'matplotlib', 'ipython',
             'ipykernel']
KEPT = ('numpy', 'scipy', 'pandas', 'matplotlib')
#: Colab's Python today, and the next Colab's.
COLAB_PYTHONS = ('3.12', '3.13')
pytestmark = pytest.mark.skipif(
    not PYTHONS, reason='make test-colab runs it (D2LREC_COLAB_PYTHONS)')

#: After the cell, in the same process: what it imported, then the
#: chapter's training, with the numpy that Colab's kernel had loaded.
TRAIN = '''
import json, sys
loaded = sorted(m for m in sys.modules
                if m.split('.')[0] in ('d2lrec', 'd2l', 'mxnet'))
import d2lrec
run = d2lrec.train_and_evaluate(plot=False, verbose=False)
print(json.dumps({'loaded_by_the_cell': loaded,
                  'numpy': numpy.__version__,
                  'same_numpy': sys.modules['numpy'] is numpy,
                  'history': run['history']}))
'''


def first_code_cell():
    cells = json.loads(NOTEBOOK.read_text())['cells']
    return ''.join(next(c for c in cells
                        if c['cell_type'] == 'code')['source'])


def run(*args, timeout=900, **kwargs):
    return subprocess.run(args, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def versions(python, env):
    """``{name: version}`` of what pip has installed for `python`."""
    out = run(python, '-m', 'pip', 'list', '--format=json', env=env)
    return {re.sub(r'[-_.]+', '-', p['name']).lower(): p['version']
            for p in json.loads(out.stdout)}


def stack_pins():
    """``[(name, version)]`` of d2lrec/stack.txt, in its order."""
    lines = (ROOT / 'd2lrec' / 'stack.txt').read_text().splitlines()
    return [tuple(line.partition(';')[0].split('==')) for line in lines
            if '==' in line and not line.startswith('#')]


def minor_version(python):
    out = run(python, '-c',
              'import sys; print("%d.%d" % sys.version_info[:2])')
    return out.stdout.strip()


@pytest.fixture(scope='module', params=PYTHONS or [None],
                ids=lambda path: pathlib.Path(path or '-').name)
def colab(request, tmp_path_factory):
    """The runtime: its venv's python, the environment to run it in, and
    the versions of what it had before the cell."""
    version = minor_version(request.param)
    assert version in COLAB_PYTHONS, (
        f'{request.param}: Python {version}, not one of Colab\'s')
    venv = ROOT / '.venv-colab' / version
    made = run(request.param, '-m', 'venv', '--clear', str(venv))
    assert made.returncode == 0, made.stderr
    python = str(venv / 'bin' / 'python')
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
    return python, env, versions(python, env)


@pytest.fixture(scope='module')
def chapter(real_data):
    """The chapter's run in this environment (`python -m d2lrec train`)."""
    return train_json()


def losses_and_rmses(history):
    return [(epoch['train_loss'], epoch['test_rmse']) for epoch in history]


def test_colab_s_python_and_the_next_are_both_given():
    """Each is tested where it is given; one not given is a skip here,
    and in CI (``CI`` set) a failure."""
    missing = set(COLAB_PYTHONS) - {minor_version(p) for p in PYTHONS}
    if missing:
        why = (f'D2LREC_COLAB_PYTHONS has no Python '
               f'{" or ".join(sorted(missing))}')
        (pytest.fail if os.environ.get('CI') else pytest.skip)(why)


def test_numpy_2_and_google_colab_are_what_colab_has(colab):
    python, env, before = colab
    assert before['numpy'].startswith('2.'), before
    assert 'setuptools' not in before and 'requests' not in before
    shell = run(python, '-m', 'IPython', '-c',
                'import sys; print("google.colab" in sys.modules)', env=env)
    assert shell.stdout.strip().splitlines()[-1] == 'True', shell


def test_before_the_cell_d2lrec_names_the_faults(colab):
    """``import d2lrec`` and ``python -m d2lrec``, from this checkout, on
    the runtime as Colab has it: the real faults, and the fix; numpy 2
    is not one."""
    python, env, _ = colab
    env = dict(env, PYTHONPATH=str(ROOT))
    imported = run(python, '-c', 'import d2lrec', env=env)
    assert imported.returncode == 1
    message = imported.stderr.splitlines()[-1]
    assert re.fullmatch(
        r'd2lrec\._compat\.StackError: mxnet 1\.9\.1 cannot be imported '
        r'on this stack: Python 3\.1[23]\.\d+ has no distutils, which '
        r'mxnet 1\.9\.1 imports \(setuptools provides it\); mxnet is not '
        r'installed\. Fix: pip install setuptools==84\.2\.1 mxnet==1\.9\.1'
        r', then restart Python \(in Jupyter or Colab, the kernel\)\.',
        message), message
    cli = run(python, '-m', 'd2lrec', 'train', env=env)
    assert cli.returncode == 1
    assert cli.stderr == f'd2lrec: error: {message.split(": ", 1)[1]}\n'


def test_the_cell_installs_then_the_chapter_trains_in_that_process(
        colab, chapter):
    python, env, before = colab
    code = ('import google.colab, numpy  # as in Colab\'s kernel\n'
            + first_code_cell() + TRAIN)
    out = run(python, '-c', code, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    said, result = out.stdout.splitlines()
    missing = [f'{name} {version}' for name, version in stack_pins()
               if name not in before]  # mxnet, d2l, setuptools, ...
    assert {'mxnet 1.9.1', 'd2l 1.0.3', 'setuptools 84.2.1'} <= set(missing)
    assert said == (
        f'd2lrec installed {", ".join(missing)}, beside '
        f"Colab's numpy {before['numpy']}, scipy {before['scipy']}, "
        f"pandas {before['pandas']}, matplotlib {before['matplotlib']}. "
        'Ready: the next cells run in this same runtime.')
    result = json.loads(result)
    assert result['loaded_by_the_cell'] == []
    assert result['numpy'] == before['numpy'] and result['same_numpy']
    assert (losses_and_rmses(result['history'])
            == losses_and_rmses(chapter['history']))


def test_then_the_cell_does_nothing_and_colab_s_packages_stay(colab):
    python, env, before = colab
    cell = 'import google.colab, numpy\n' + first_code_cell()
    again = run(python, '-c', cell, env=env)
    assert (again.returncode, again.stdout, again.stderr) == (0, '', '')
    after = versions(python, env)
    assert {name: after[name] for name in KEPT} == {
        name: before[name] for name in KEPT}
    pins = {name: version for name, version in stack_pins()
            if name not in before}
    assert {name: after.get(name) for name in pins} == pins


def test_notebook_02_runs_under_nbval_after_the_cell(colab):
    python, env, _ = colab
    out = run(python, '-m', 'pytest', '--nbval', '--nbval-current-env',
              '-p', 'no:cacheprovider', str(NOTEBOOK.relative_to(ROOT)),
              cwd=ROOT, env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]

"""``import d2lrec`` checks the stack, then restores ``numpy.bool`` for
mxnet on numpy 1.24-1.26.

See `d2lrec._compat`.  The fake-module tests cover numpy 1.23, 1.26 and 2
whatever numpy this environment has; the subprocess tests check the real
one (numpy 1.23.5 in .venv, 1.26.4 in .venv-numpy126).  The stack check
is tested here on faked metadata, case by case, and for real on Python
3.13 (when pyenv has one) and, in tests/test_colab_runtime.py, on a
runtime with numpy 2, scipy 1.18 and no setuptools.
"""
import glob
import os
import pathlib
import subprocess
import sys
import types

import numpy
import pytest

from d2lrec import _compat

NUMPY = tuple(int(part) for part in numpy.__version__.split('.')[:2])


def python(code, *options):
    return subprocess.run([sys.executable, *options, '-c', code],
                          capture_output=True, text=True, timeout=120)


def fake_numpy(**attributes):
    module = types.ModuleType('numpy')
    module.__dict__.update(attributes)
    return module


@pytest.mark.parametrize('version, attributes, sets', [
    ('1.23', {'__deprecated_attrs__': {'bool': (bool, 'deprecated')}},
     False),
    ('1.26', {'__deprecated_attrs__': {'bool8': (numpy.bool_, '')}}, True),
    ('2.x', {'bool': numpy.bool_, '__deprecated_attrs__': {}}, False),
])
def test_alias_only_where_numpy_lacks_the_name(monkeypatch, version,
                                               attributes, sets):
    fake = fake_numpy(**attributes)
    monkeypatch.setitem(sys.modules, 'numpy', fake)
    assert _compat.alias_numpy_bool() is sets
    if sets:
        assert fake.bool is bool
    else:
        assert fake.__dict__.get('bool') is attributes.get('bool')
    assert _compat.alias_numpy_bool() is False  # a second call: no change


def test_import_d2lrec_warns_not_and_loads_no_mxnet():
    out = python('import sys, d2lrec, numpy\n'
                 'assert "mxnet" not in sys.modules\n'
                 'assert "d2l" not in sys.modules\n'
                 'print("bool" in vars(numpy))', '-W', 'error')
    assert out.returncode == 0, out.stderr
    # The alias is set on numpy 1.24 to 1.26 only (numpy 1.23 keeps its
    # deprecated alias, untouched).
    assert out.stdout.strip() == str((1, 24) <= NUMPY < (2, 0))


def test_mxnet_and_d2l_import_after_d2lrec_and_use_the_alias():
    out = python('import d2lrec\n'
                 'from d2l import mxnet as d2l\n'
                 'from mxnet import np, npx\n'
                 'npx.set_np()\n'
                 'x = np.array([1, 2, 3])\n'
                 'print(x[x != 2].tolist())')  # a boolean index
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '[1.0, 3.0]'


@pytest.mark.skipif(not (1, 24) <= NUMPY < (2, 0),
                    reason='only numpy 1.24 to 1.26 lack numpy.bool')
def test_mxnet_before_d2lrec_fails_on_this_numpy():
    """Why the notebooks import d2lrec first."""
    out = python('import mxnet')
    assert out.returncode != 0
    assert "has no attribute 'bool'" in out.stderr


def fake_stack(monkeypatch, python=(3, 11, 7), versions=None,
               numpy_requirements=None, distutils=True):
    """Make `_compat` see these installed versions and numpy
    requirements, on this Python, with or without distutils."""
    versions = {'numpy': '1.26.4', 'mxnet': '1.9.1', **(versions or {})}
    requirements = numpy_requirements or {}
    monkeypatch.setattr(sys, 'version_info', python + ('final', 0))
    monkeypatch.setattr(_compat, '_version', versions.get)
    monkeypatch.setattr(_compat.importlib.metadata, 'requires',
                        lambda name: requirements.get(name, []))
    found = {'distutils': distutils,
             'mxnet': versions.get('mxnet') is not None}
    monkeypatch.setattr(_compat.importlib.util, 'find_spec',
                        lambda name: object() if found[name] else None)


def test_this_stack_is_right():
    assert _compat.stack_problem() is None


def test_numpy_2_is_named_with_its_fix(monkeypatch):
    fake_stack(monkeypatch, versions={'numpy': '2.3.5'})
    assert _compat.stack_problem() == (
        'mxnet 1.9.1 cannot be imported on this stack: numpy 2.3.5 is '
        'installed, but mxnet 1.9.1 needs numpy < 2. Fix: pip install '
        'numpy==1.26.4, then restart Python (in Jupyter or Colab, the '
        'kernel).')


def test_a_numpy_2_only_scipy_is_named_with_its_fix(monkeypatch):
    fake_stack(monkeypatch, versions={'scipy': '1.18.1'},
               numpy_requirements={'scipy': ['numpy<2.8,>=2.0.0',
                                             'pytest; extra == "test"']})
    problem = _compat.stack_problem()
    assert 'scipy 1.18.1 requires numpy<2.8,>=2.0.0.' in problem
    assert 'Fix: pip install scipy==1.17.1,' in problem


def test_numpy_users_are_judged_against_the_numpy_of_the_fix(monkeypatch):
    """With numpy 2 installed, pandas 3.1 is fine now but not after
    ``pip install numpy==1.26.4``: the one command fixes both."""
    fake_stack(monkeypatch, python=(3, 12, 1),
               versions={'numpy': '2.3.5', 'pandas': '3.1.1',
                         'matplotlib': '3.11.2'},
               numpy_requirements={
                   'pandas': ['numpy>=2.0.2; python_version < "3.14"',
                              'numpy>=2.3.3; python_version >= "3.14"'],
                   'matplotlib': ['numpy>=1.25']})
    problem = _compat.stack_problem()
    assert 'pandas 3.1.1 requires numpy>=2.0.2' in problem
    assert 'matplotlib' not in problem
    assert 'Fix: pip install numpy==1.26.4 pandas==3.0.6,' in problem


def test_python_312_without_setuptools_is_named(monkeypatch):
    fake_stack(monkeypatch, python=(3, 12, 1), distutils=False)
    problem = _compat.stack_problem()
    assert 'Python 3.12.1 has no distutils' in problem
    assert 'Fix: pip install setuptools==84.2.1,' in problem
    fake_stack(monkeypatch, python=(3, 11, 7), distutils=False)
    assert _compat.stack_problem() is None  # 3.11 has its own


def test_missing_mxnet_is_named(monkeypatch):
    fake_stack(monkeypatch, versions={'mxnet': None})
    assert 'Fix: pip install mxnet==1.9.1,' in _compat.stack_problem()


def test_python_313_is_refused_without_a_pip_fix(monkeypatch):
    fake_stack(monkeypatch, python=(3, 13, 0))
    problem = _compat.stack_problem()
    assert problem.startswith('Python 3.13.0 cannot run mxnet 1.9.1: it '
                              'needs numpy < 2, which has no wheels for '
                              'Python 3.13. Use Python 3.11 or 3.12')
    assert 'pip install' not in problem


def test_older_pythons_are_refused_only_by_the_makefile(monkeypatch):
    fake_stack(monkeypatch, python=(3, 10, 13))
    assert _compat.stack_problem() is None
    assert 'is older than' in _compat.python_problem()


def test_fixes_come_from_the_stack_file():
    pins = _compat.stack_pins()
    assert pins['numpy'] == '1.26.4' and pins['mxnet'] == '1.9.1'
    assert {'scipy', 'setuptools', *_compat.NUMPY_USERS} <= pins.keys()


PYTHON_313 = sorted(glob.glob(os.path.expanduser(
    '~/.pyenv/versions/3.13*/bin/python3.13')))


@pytest.mark.skipif(not PYTHON_313, reason='no Python 3.13 here')
def test_on_a_real_python_313_every_entry_says_so_at_once(tmp_path):
    """``import d2lrec``, ``python -m d2lrec`` and ``make chapter`` on a
    real Python 3.13, which has no numpy at all here."""
    root = pathlib.Path(__file__).parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    run = [PYTHON_313[-1], '-c', 'import d2lrec']
    imported = subprocess.run(run, capture_output=True, text=True, env=env)
    assert imported.returncode == 1
    assert imported.stderr.splitlines()[-1].startswith(
        'd2lrec._compat.StackError: Python 3.13')
    cli = subprocess.run([PYTHON_313[-1], '-m', 'd2lrec', 'train'],
                         capture_output=True, text=True, env=env)
    assert cli.returncode == 1
    assert cli.stderr.startswith('d2lrec: error: Python 3.13')
    assert cli.stderr.count('\n') == 1
    venv = tmp_path / 'venv'
    make = subprocess.run(['make', '-C', str(root), 'chapter',
                           f'PYTHON={PYTHON_313[-1]}', f'VENV={venv}',
                           f'VENV126={venv}'],
                          capture_output=True, text=True, timeout=60)
    assert make.returncode != 0
    assert 'd2lrec: error: Python 3.13' in make.stderr
    assert not venv.exists()  # nothing half-built

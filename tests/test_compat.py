"""``import d2lrec`` checks the Python and the stack, then gives back the
numpy names that mxnet 1.9.1 reads at import.

See `d2lrec._compat`.  The fake-module tests cover numpy 1.23, 1.26 and 2
whatever numpy this environment has; the subprocess tests check the real
one (numpy 1.23.5 in .venv, numpy 2 in .venv-numpy2): every name mxnet
asks numpy for at import resolves.  The stack check is tested here on
faked metadata, case by case, and for real on a Python 3.10 (when pyenv
has one) and, in tests/test_colab_runtime.py, on Colab's stack.
"""
import glob
import os
import pathlib
import re
import subprocess
import sys
import types

import numpy
import pytest
from packaging.markers import Marker

from d2lrec import _compat

ROOT = pathlib.Path(__file__).parents[1]
NUMPY = tuple(int(part) for part in numpy.__version__.split('.')[:2])


def python(code, *options, executable=sys.executable):
    return subprocess.run([executable, *options, '-c', code],
                          capture_output=True, text=True, timeout=120)


#: Records each name that mxnet, d2l or d2lrec asks numpy for and numpy
#: cannot give, through numpy's module ``__getattr__`` (which sees every
#: name missing from the module, ``from numpy import`` too).
RECORD_MISSES = '''
import numpy
misses = []
found = numpy.__getattr__
def record(name):
    try:
        return found(name)
    except AttributeError:
        misses.append(name)
        raise
numpy.__getattr__ = record
'''


@pytest.mark.parametrize('version, attributes, restored', [
    ('1.23', {'__deprecated_attrs__': {'bool': (bool, 'deprecated')},
              **dict.fromkeys(_compat.NUMPY_NAMES.keys() - {'bool'})},
     []),
    ('1.26', {'__deprecated_attrs__': {'bool8': (numpy.bool_, '')},
              **dict.fromkeys(_compat.NUMPY_NAMES.keys() - {'bool'})},
     ['bool']),
    ('2.x', {'bool': numpy.bool_, 'all': all, 'any': any, 'prod': 'prod',
             'round': round, 'trapezoid': 'trapezoid'},
     [name for name in _compat.NUMPY_NAMES if name != 'bool']),
])
def test_names_are_given_back_only_where_numpy_lacks_them(
        monkeypatch, version, attributes, restored):
    fake = types.ModuleType('numpy')
    fake.__dict__.update(attributes)
    before = dict(vars(fake))
    monkeypatch.setitem(sys.modules, 'numpy', fake)
    assert _compat.restore_numpy_names() == restored
    for name, value in before.items():
        assert vars(fake)[name] is value  # nothing numpy has is touched
    assert _compat.restore_numpy_names() == []  # a second call: no change
    if version == '2.x':
        assert (fake.alltrue, fake.product, fake.NINF) == (all, 'prod',
                                                           -float('inf'))


def test_every_numpy_name_mxnet_reads_at_import_resolves():
    """A numpy release that removes another name that mxnet reads fails
    here, naming it, instead of in a reader's ``import mxnet``."""
    out = python(RECORD_MISSES + 'import d2lrec\n'
                 'import mxnet, mxnet.numpy, mxnet.numpy_extension\n'
                 'from d2l import mxnet as d2l\n'
                 'print(sorted(set(misses)))')
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '[]'


@pytest.mark.skipif(NUMPY < (1, 24), reason='numpy 1.23 has every name')
def test_without_d2lrec_mxnet_fails_on_this_numpy():
    """Why the notebooks import d2lrec first."""
    out = python('import mxnet')
    assert out.returncode != 0
    assert re.search(r"AttributeError: (module 'numpy' has no attribute "
                     r"'bool'|`np\.\w+` was removed in the NumPy 2\.0)",
                     out.stderr), out.stderr


def test_the_names_given_back_behave_as_numpy_1_had_them():
    out = python('import d2lrec, numpy as np\n'
                 'a = np.array([[3, 1], [2, 5]])\n'
                 'print(np.in1d(a, [1, 5]).tolist(), '
                 'np.msort(a).tolist(), np.product(a), '
                 'np.alltrue(a > 0), np.sometrue(a > 4), np.NINF)\n'
                 'np.npv(0.1, [1, 2])')
    lines = out.stdout.splitlines()
    assert lines == ['[False, True, False, True] [[2, 1], [3, 5]] 30 '
                     'True True -inf']
    assert out.stderr.splitlines()[-1] == (
        'NotImplementedError: numpy.npv was removed from numpy in 1.20 (it '
        'is in the numpy-financial package); d2lrec gives the name back '
        'only because mxnet 1.9.1 reads it at import')


def test_import_d2lrec_warns_not_and_loads_no_mxnet():
    out = python('import sys, d2lrec\n'
                 'assert "mxnet" not in sys.modules\n'
                 'assert "d2l" not in sys.modules', '-W', 'error')
    assert out.returncode == 0, out.stderr


def test_mxnet_and_d2l_import_after_d2lrec_and_work():
    out = python('import d2lrec\n'
                 'from d2l import mxnet as d2l\n'
                 'from mxnet import np, npx\n'
                 'npx.set_np()\n'
                 'x = np.array([1, 2, 3])\n'
                 'print(x[x != 2].tolist(), d2l.try_all_gpus())')
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '[1.0, 3.0] []'  # a boolean index


def fake_stack(monkeypatch, python=(3, 11, 7), versions=None,
               numpy_requirements=None, distutils=True):
    """Make `_compat` see these installed versions and numpy
    requirements, on this Python, with or without distutils."""
    versions = {'numpy': '2.5.5', 'mxnet': '1.9.1', **(versions or {})}
    requirements = numpy_requirements or {}
    monkeypatch.setattr(sys, 'version_info', python + ('final', 0))
    monkeypatch.setattr(_compat, '_version', versions.get)
    monkeypatch.setattr(_compat.importlib.metadata, 'requires',
                        lambda name: requirements.get(name, []))
    found = {'distutils': distutils,
             'mxnet': versions.get('mxnet') is not None}
    monkeypatch.setattr(_compat.importlib.util, 'find_spec',
                        lambda name: object() if found[name] else None)
    monkeypatch.setattr(_compat, 'stack_pins', lambda: {
        'numpy': '2.5.5', 'scipy': '1.18.1', 'pandas': '3.1.1',
        'setuptools': '84.2.1', 'mxnet': '1.9.1'})


def test_this_stack_is_right():
    assert _compat.stack_problem() is None


@pytest.mark.parametrize('numpy_version', ['1.23.5', '1.26.4', '2.5.5'])
def test_numpy_1_and_2_are_right(monkeypatch, numpy_version):
    fake_stack(monkeypatch, versions={'numpy': numpy_version})
    assert _compat.stack_problem() is None


def test_an_untested_numpy_is_named_with_its_fix(monkeypatch):
    fake_stack(monkeypatch, versions={'numpy': '3.0.1'})
    assert _compat.stack_problem() == (
        'mxnet 1.9.1 cannot be imported on this stack: numpy 3.0.1 is '
        'newer than d2lrec is tested on (numpy 2). Fix: pip install '
        'numpy==2.5.5, then restart Python (in Jupyter or Colab, the '
        'kernel).')


def test_a_numpy_2_only_scipy_on_numpy_1_is_fixed_by_numpy(monkeypatch):
    fake_stack(monkeypatch, versions={'numpy': '1.26.4', 'scipy': '1.18.1',
                                      'pandas': '3.1.1'},
               numpy_requirements={'scipy': ['numpy<2.8,>=2.0.0',
                                             'pytest; extra == "test"'],
                                   'pandas': ['numpy>=2.0.2']})
    problem = _compat.stack_problem()
    assert ('numpy 1.26.4' not in problem
            and 'scipy 1.18.1 requires numpy<2.8,>=2.0.0; pandas 3.1.1 '
            'requires numpy>=2.0.2. Fix: pip install numpy==2.5.5,'
            in problem)


def test_a_numpy_1_only_scipy_on_numpy_2_is_fixed_by_scipy(monkeypatch):
    fake_stack(monkeypatch, versions={'scipy': '1.10.1'},
               numpy_requirements={'scipy': ['numpy<1.27.0,>=1.19.5']})
    problem = _compat.stack_problem()
    assert 'scipy 1.10.1 requires numpy<1.27.0,>=1.19.5.' in problem
    assert 'Fix: pip install scipy==1.18.1,' in problem


def test_python_312_and_newer_without_setuptools_are_named(monkeypatch):
    for version in ((3, 12, 1), (3, 15, 2)):
        fake_stack(monkeypatch, python=version, distutils=False)
        problem = _compat.stack_problem()
        assert f'Python {".".join(map(str, version))} has no distutils' \
            in problem
        assert 'Fix: pip install setuptools==84.2.1,' in problem
    fake_stack(monkeypatch, python=(3, 11, 7), distutils=False)
    assert _compat.stack_problem() is None  # 3.11 has its own


def test_missing_mxnet_is_named(monkeypatch):
    fake_stack(monkeypatch, versions={'mxnet': None})
    assert 'Fix: pip install mxnet==1.9.1,' in _compat.stack_problem()


def test_python_310_and_older_are_refused_naming_those_that_work(
        monkeypatch):
    fake_stack(monkeypatch, python=(3, 10, 13))
    problem = _compat.stack_problem()
    assert problem == _compat.python_problem() == (
        'Python 3.10.13 is older than the Pythons d2lrec runs on, 3.11 to '
        '3.15. Use one of those (for example `pyenv install 3.13` or `uv '
        'venv --python 3.13`); see docs/install.md, "Which Python".')


@pytest.mark.parametrize('version', [(3, 11, 0), (3, 13, 5), (3, 15, 2)])
def test_pythons_311_to_315_run_without_a_word(monkeypatch, version):
    fake_stack(monkeypatch, python=version)
    assert _compat.python_problem() is _compat.python_warning() is None


def test_a_newer_python_is_tried_with_a_warning(monkeypatch):
    fake_stack(monkeypatch, python=(3, 16, 0))
    assert _compat.stack_problem() is None
    assert _compat.python_warning().startswith(
        'Python 3.16.0 is newer than the Pythons d2lrec is tested on, 3.11 '
        'to 3.15: it may work;')


def test_the_stack_file_has_one_pin_a_package_on_every_python():
    lines = [line for line in
             (ROOT / 'd2lrec' / 'stack.txt').read_text().splitlines()
             if line and not line.startswith('#')]
    for minor in range(11, 16):
        env = {'python_version': f'3.{minor}'}
        names = [line.split('==')[0] for line in lines
                 if ';' not in line
                 or Marker(line.split(';')[1]).evaluate(env)]
        assert len(names) == len(set(names)), minor
        assert {'numpy', 'scipy', 'mxnet', 'd2l', 'setuptools',
                *_compat.NUMPY_USERS} <= set(names)


def test_fixes_come_from_the_stack_file_for_this_python():
    pins = _compat.stack_pins()
    assert pins['mxnet'] == '1.9.1'
    assert pins['numpy'] == ('2.4.6' if sys.version_info < (3, 12)
                             else '2.5.5')


PYTHON_310 = sorted(glob.glob(os.path.expanduser(
    '~/.pyenv/versions/3.10*/bin/python3.10')))


@pytest.mark.skipif(not PYTHON_310, reason='no Python 3.10 here')
def test_on_a_real_python_310_every_entry_says_so_at_once(tmp_path):
    """``import d2lrec``, ``python -m d2lrec`` and ``make chapter`` on a
    real Python 3.10: refused before numpy is imported or a venv made."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    imported = subprocess.run(
        [PYTHON_310[-1], '-c', 'import sys\ntry:\n    import d2lrec\n'
         'except ImportError as e:\n    print("numpy" in sys.modules, e)'],
        capture_output=True, text=True, env=env)
    assert imported.stdout.startswith('False Python 3.10')
    cli = subprocess.run([PYTHON_310[-1], '-m', 'd2lrec', 'train'],
                         capture_output=True, text=True, env=env)
    assert cli.returncode == 1
    assert cli.stderr.startswith('d2lrec: error: Python 3.10')
    assert cli.stderr.count('\n') == 1
    venv = tmp_path / 'venv'
    make = subprocess.run(['make', '-C', str(ROOT), 'chapter',
                           f'PYTHON={PYTHON_310[-1]}', f'VENV={venv}',
                           f'VENV2={venv}'],
                          capture_output=True, text=True, timeout=60)
    assert make.returncode != 0
    assert 'd2lrec: error: Python 3.10' in make.stderr
    assert 'runs on, 3.11 to 3.15' in make.stderr
    assert not venv.exists()  # nothing half-built


@pytest.mark.parametrize('failure, message', [
    # a stack newer than those tested, where numpy removed another name
    ('import numpy\nnumpy.removed_in_numpy_3',
     "mxnet 1.9.1 failed to import: module 'numpy' has no attribute "
     "'removed_in_numpy_3'. This is Python "),
    # a minimal Debian: libmxnet.so links against libgomp.so.1
    ("raise OSError('libgomp.so.1: cannot open shared object file')",
     'mxnet could not load a library it needs: libgomp.so.1: cannot open '
     "shared object file. mxnet 1.9.1 needs the system's OpenMP and "
     'quad-precision math libraries: apt-get install libgomp1 '
     'libquadmath0 (Debian, Ubuntu; docs/install.md).'),
    ("raise OSError('libcudart.so.11.0: cannot open shared object file')",
     'mxnet could not load a library it needs: libcudart.so.11.0: cannot '
     'open shared object file. mxnet-cu112 needs the CUDA 11 libraries'),
])
def test_an_mxnet_that_fails_to_import_is_one_line_from_the_cli(
        tmp_path, failure, message):
    fake = tmp_path / 'mxnet'
    fake.mkdir()
    (fake / '__init__.py').write_text(failure + '\n')
    env = dict(os.environ, PYTHONPATH=f'{tmp_path}:{ROOT}')
    cli = subprocess.run([sys.executable, '-m', 'd2lrec', 'train'],
                         capture_output=True, text=True, env=env,
                         timeout=60)
    assert cli.returncode == 1
    assert cli.stderr.count('\n') == 1
    assert cli.stderr.startswith(f'd2lrec: error: {message}'), cli.stderr
    if 'numpy' in failure:
        assert ('d2lrec is tested on Python 3.11 to 3.15 with numpy 1.23 '
                'to 2.x' in cli.stderr)


def test_on_numpy_2_scalars_print_as_numpy_1_printed_them():
    """mxnet writes operators' parameters with ``str``: on numpy 2
    ``[0, np.int64(2)]`` would reach libmxnet (tests/test_train.py's
    two-device runs split batches so)."""
    out = python('import d2lrec, numpy as np, contextvars, threading\n'
                 'print([0, np.int64(2)], np.float32(0.5))\n'
                 'copy = contextvars.copy_context()\n'
                 'threading.Thread(target=copy.run, args=(print, '
                 '[np.int64(3)])).start()')
    assert out.stdout.splitlines() == ['[0, 2] 0.5', '[3]'], out.stderr

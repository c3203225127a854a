"""``import d2lrec`` restores ``numpy.bool`` for mxnet on numpy 1.24-1.26.

See `d2lrec._compat`.  The fake-module tests cover numpy 1.23, 1.26 and 2
whatever numpy this environment has; the subprocess tests check the real
one (numpy 1.23.5 in .venv, 1.26.4 in .venv-numpy126).
"""
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
    monkeypatch.setattr(_compat, 'numpy', fake)
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

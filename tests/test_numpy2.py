"""requirements-numpy2.txt, the numpy 2 environment.

It is installed with ``pip install --no-deps -r``, so it must list every
package itself; `pip check` tells what is missing, and may report only
mxnet 1.9.1's and d2l 1.0.3's own pins, which this environment overrides
on purpose.
"""
import importlib.metadata
import subprocess
import sys

import numpy
import pytest

from test_environments import ROOT, read_pins

FILE = ROOT / 'requirements-numpy2.txt'


def pins():
    return read_pins(FILE.name)


def test_pins_the_numpy_2_stack():
    found = pins()
    assert found['numpy'].startswith('2.')
    assert found['mxnet'] == '1.9.1'
    assert found['d2l'] == '1.0.3'
    # newer than d2l's pins (matplotlib 3.7.2, pandas 2.0.3) and IPython 8
    assert int(found['ipython'].split('.')[0]) >= 9
    assert tuple(map(int, found['matplotlib'].split('.')[:2])) > (3, 7)
    assert int(found['pandas'].split('.')[0]) >= 2
    assert found['pandas'] != '2.0.3'
    assert {'nbval', 'pytest', 'ipykernel', 'pyyaml'} <= found.keys()
    assert FILE.read_text().rstrip().endswith('-e .')


def test_pip_check_reports_nothing_but_mxnets_and_d2ls_own_pins():
    out = subprocess.run([sys.executable, '-m', 'pip', 'check'],
                         capture_output=True, text=True, timeout=120)
    problems = [line for line in out.stdout.splitlines()
                if line.strip()
                and not line.startswith(('d2l 1.0.3 ', 'mxnet 1.9.1 has '
                                         'requirement numpy<2'))
                and line != 'No broken requirements found.']
    assert problems == [], out.stdout + out.stderr


@pytest.mark.skipif(numpy.__version__ != pins()['numpy'],
                    reason='not the numpy 2 environment')
def test_this_environment_is_the_pinned_one():
    """A venv left over from older pins fails here (``make test``
    rebuilds it when the file changes)."""
    wrong = {name: (version, installed(name))
             for name, version in pins().items()
             if installed(name) != version}
    assert wrong == {}


def installed(name):
    """The version Python imports: the first on sys.path (setuptools
    adds its vendored packages' metadata behind the venv's)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None

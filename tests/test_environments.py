"""requirements.txt (CPU, pip) and environment.yml (conda, GPU) agree,
and every pinned file installs on each Python it claims."""
import importlib.metadata
import pathlib
import re

import sys

import pytest
import yaml
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

ROOT = pathlib.Path(__file__).parents[1]
PIN = re.compile(r'^([A-Za-z0-9_.\-]+)==(\S+)$')


def canonical(name):
    """PyPI-normalized name; mxnet-cu112 is the GPU build of mxnet."""
    name = re.sub(r'[-_.]+', '-', name).lower()
    return 'mxnet' if name.startswith('mxnet-cu') else name


#: The Pythons each pinned file is for (docs/install.md, "Which Python").
CLAIMS = {'requirements.txt': ('3.11',),
          'requirements-numpy2.txt': ('3.11', '3.12', '3.13', '3.14',
                                      '3.15')}
THIS_PYTHON = '%d.%d' % sys.version_info[:2]


def read_pins(filename, python=THIS_PYTHON):
    """{canonical name: version} of a requirements file of exact pins,
    with the files it includes (``-r``), on Python `python` (a line's
    ``; python_version ...`` marker says where it applies)."""
    pins = {}
    for line in (ROOT / filename).read_text().splitlines():
        line, _, marker = line.partition(';')
        line = line.strip()
        if not line or line.startswith('#') or line == '-e .':
            continue
        if marker and not Marker(marker).evaluate(
                {'python_version': python}):
            continue
        if line.startswith('-r '):
            pins.update(read_pins(line[3:].strip(), python))
            continue
        match = PIN.match(line)
        assert match, f'{filename}: not an exact pin: {line!r}'
        pins[canonical(match[1])] = match[2]
    return pins


def environment_pins():
    env = yaml.safe_load((ROOT / 'environment.yml').read_text())
    pip = next(d['pip'] for d in env['dependencies'] if isinstance(d, dict))
    pins = {}
    for line in pip:
        if line == '-e .':
            continue
        match = PIN.match(line)
        assert match, f'environment.yml: not an exact pin: {line!r}'
        pins[canonical(match[1])] = match[2]
    return env, pins


def test_requirements_pin_the_chapter_stack():
    pins = read_pins('requirements.txt')
    assert pins['mxnet'] == '1.9.1'
    assert pins['d2l'] == '1.0.3'
    # d2l 1.0.3's own pins
    assert pins['numpy'] == '1.23.5'
    assert pins['matplotlib'] == '3.7.2'
    assert pins['pandas'] == '2.0.3'
    assert pins['jupyter'] == '1.0.0'
    # matplotlib 3.7.2 needs IPython 8.x outside a kernel
    assert pins['ipython'].startswith('8.')
    assert {'nbval', 'pytest'} <= pins.keys()


def test_shared_packages_have_the_same_versions():
    requirements = read_pins('requirements.txt')
    _, environment = environment_pins()
    environment = {name: version for name, version in environment.items()
                   if not name.startswith('nvidia-')}
    assert environment.keys() <= requirements.keys()
    assert {name: requirements[name] for name in environment} == environment


def test_environment_brings_the_gpu_stacks_cuda_libraries():
    """environment.yml: conda's Python, then by pip mxnet-cu112 and the
    same CUDA 11 wheels as d2lrec/stack-cu112.txt, the GPU stack."""
    env, pins = environment_pins()
    conda = [d for d in env['dependencies'] if isinstance(d, str)]
    assert conda == ['python=3.11', 'pip']
    assert 'mxnet-cu112==1.9.1' in env['dependencies'][-1]['pip']
    gpu = read_pins('d2lrec/stack-cu112.txt')
    assert ({name: v for name, v in pins.items() if name.startswith(
        'nvidia-')} == {name: v for name, v in gpu.items()
                        if name.startswith('nvidia-')})


def installed_file():
    """The pinned file this environment was installed from: the one whose
    numpy is installed."""
    numpy = importlib.metadata.version('numpy')
    return next((name for name in CLAIMS
                 if read_pins(name)['numpy'] == numpy), None)


@pytest.mark.skipif(installed_file() is None,
                    reason='not an environment of a pinned file')
def test_every_pin_installs_on_the_first_patch_release_it_claims():
    """Each installed pin's Requires-Python admits x.y.0 of every Python
    its file claims and that pin is for: soupsieve 4.1.3 (>=3.11.5)
    broke Debian 12's 3.11.2.  A bump that raises the floor fails
    here."""
    filename = installed_file()
    floors = {}
    for name, version in read_pins(filename).items():
        metadata = importlib.metadata.metadata(name)
        assert metadata['Version'] == version, name
        needs = SpecifierSet(metadata['Requires-Python'] or '')
        refused = [f'{python}.0' for python in CLAIMS[filename]
                   if read_pins(filename, python).get(name) == version
                   and not needs.contains(f'{python}.0')]
        if refused:
            floors[f'{name}=={version}'] = (str(needs), refused)
    assert floors == {}, filename

"""requirements.txt (CPU, pip) and environment.yml (conda, GPU) agree."""
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).parents[1]
PIN = re.compile(r'^([A-Za-z0-9_.\-]+)==(\S+)$')


def canonical(name):
    """PyPI-normalized name; mxnet-cu112 is the GPU build of mxnet."""
    name = re.sub(r'[-_.]+', '-', name).lower()
    return 'mxnet' if name.startswith('mxnet-cu') else name


def read_pins(filename):
    """{canonical name: version} of a requirements file of exact pins."""
    pins = {}
    for line in (ROOT / filename).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith('#') or line == '-e .':
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
    assert environment.keys() <= requirements.keys()
    assert {name: requirements[name] for name in environment} == environment


def test_environment_brings_cuda_libraries_for_mxnet_cu112():
    env, pins = environment_pins()
    conda = [d for d in env['dependencies'] if isinstance(d, str)]
    assert 'python=3.11' in conda
    assert 'cudatoolkit=11.2' in conda
    assert any(d.startswith('cudnn=8') for d in conda)
    assert 'mxnet-cu112==1.9.1' in env['dependencies'][-1]['pip']

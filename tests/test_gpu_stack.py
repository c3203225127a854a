"""The GPU stack, d2lrec/stack-cu112.txt, installed by pip alone, proven
up to the driver (``make test-gpu-stack``, part of ``make test``;
skipped unless D2LREC_GPU_PYTHON names the Python to build it with).

1. A venv of the GPU stack, built for real (``pip install --no-deps -r
   d2lrec/stack-cu112.txt``: mxnet-cu112 1.9.1 and NVIDIA's CUDA 11
   wheels, about 4 GB), kept between runs under D2LREC_CACHE (default
   ~/.cache/d2lrec) in a directory named by a hash of the stack file and
   the Python, so a changed stack gets a new venv (and the old one is
   removed); one that did not finish is removed and made again.  d2lrec
   comes from this checkout (PYTHONPATH), not from the venv.
2. Every library libmxnet.so needs, except the driver's libcuda.so.1, is
   in that venv (``ldd``).
3. With a stand-in driver (tests/cuda_stand_in, which reports no GPU),
   ``import d2lrec`` then mxnet works, CUDA on, and `try_all_gpus` is
   ``[cpu()]`` with its note; without d2lrec, ``import mxnet`` fails.
4. The chapter's run on mxnet-cu112's CPU operators gives the CPU
   build's test RMSE (this Python's mxnet, the CPU stack) bit for bit,
   and every epoch's train loss and test RMSE too.
5. The words: no driver; a driver too old for CUDA 11; a GPU newer than
   sm_86 (mxnet's GPU count faked: the stand-in runs no GPU code).

No GPU here can run mxnet-cu112, so a real GPU run is not proven
(docs/gpu.md).
"""
import fcntl
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from cuda_stand_in import build
from d2lrec import _cuda

ROOT = pathlib.Path(__file__).parents[1]
STACK = ROOT / 'd2lrec' / 'stack-cu112.txt'
PYTHON = os.environ.get('D2LREC_GPU_PYTHON')
pytestmark = pytest.mark.skipif(
    not PYTHON, reason='make test-gpu-stack runs it (D2LREC_GPU_PYTHON)')


def run(*args, timeout=1800, **kwargs):
    return subprocess.run(args, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def venv_key():
    """A hash of what the venv is made of: the stack file, the Python."""
    python = run(PYTHON, '-c', 'import sys; print(sys.version)').stdout
    return hashlib.sha256(STACK.read_bytes() + python.encode()
                          + PYTHON.encode()).hexdigest()[:16]


@pytest.fixture(scope='module')
def venv():
    """The GPU stack's venv, made whole or not at all, or reused."""
    cache = pathlib.Path(os.environ.get('D2LREC_CACHE') or
                         pathlib.Path.home() / '.cache' / 'd2lrec')
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f'venv-cu112-{venv_key()}'
    with open(cache / 'venv-cu112.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one maker at a time
        if not (path / 'd2lrec-complete').exists():
            for old in cache.glob('venv-cu112-*'):  # 4 GB each: keep one
                shutil.rmtree(old, ignore_errors=True)
            made = run(PYTHON, '-m', 'venv', str(path))
            assert made.returncode == 0, made.stderr
            installed = run(str(path / 'bin' / 'python'), '-m', 'pip',
                            'install', '-q', '--no-deps', '-r', str(STACK))
            if installed.returncode:
                shutil.rmtree(path, ignore_errors=True)
            assert installed.returncode == 0, installed.stderr[-3000:]
            (path / 'd2lrec-complete').touch()
    return path


@pytest.fixture(scope='module')
def driver(tmp_path_factory):
    """The directory of the stand-in libcuda.so.1."""
    return build(tmp_path_factory.mktemp('driver'))


def python(venv, code, driver=None, **env):
    """Run `code` in the GPU venv, d2lrec from this checkout; the
    stand-in driver on the loader's path if `driver` is given."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    env.pop('LD_LIBRARY_PATH', None)
    if driver:
        env['LD_LIBRARY_PATH'] = str(driver)
    return run(str(venv / 'bin' / 'python'), *code, env=env)


def site(venv):
    return next((venv / 'lib').glob('python3.*/site-packages'))


def test_the_venv_provides_every_library_but_the_driver(venv):
    """``ldd`` resolves what libmxnet.so needs, with NVIDIA's wheels'
    directories on the loader's path; only libcuda.so.1 is not found."""
    packages = site(venv)
    libs = sorted(str(p) for p in packages.glob('nvidia/*/lib'))
    out = run('ldd', str(packages / 'mxnet' / 'libmxnet.so'),
              env=dict(os.environ, LD_LIBRARY_PATH=':'.join(libs)))
    found = dict(re.findall(r'^\s*(\S+) => (.+?)(?: \(0x\w+\))?$',
                            out.stdout, re.M))
    assert {name for name, where in found.items()
            if where == 'not found'} == {'libcuda.so.1'}
    for _, name, _ in _cuda.LIBRARIES:
        assert found[name].startswith(str(packages / 'nvidia')), name


def test_import_d2lrec_makes_mxnet_cu112_work(venv, driver):
    code = ('import warnings; import d2lrec; import mxnet as mx\n'
            'with warnings.catch_warnings(record=True) as notes:\n'
            '    warnings.simplefilter("always")\n'
            '    devices = d2lrec.try_all_gpus()\n'
            'x = (mx.nd.ones((2, 3)) * 2).sum().asscalar()\n'
            'print(json.dumps([mx.runtime.Features().is_enabled("CUDA"), '
            'mx.context.num_gpus(), str(devices), float(x), '
            '[str(n.message) for n in notes]]))')
    out = python(venv, ['-c', 'import json\n' + code], driver)
    assert out.returncode == 0, out.stderr
    cuda, gpus, devices, x, notes = json.loads(out.stdout)
    assert (cuda, gpus, devices, x) == (True, 0, '[cpu(0)]', 12.0)
    assert notes == ['mxnet-cu112 runs on the CPU: the NVIDIA driver finds '
                     'no GPU (check nvidia-smi and CUDA_VISIBLE_DEVICES).']
    bare = python(venv, ['-c', 'import mxnet'], driver)
    assert bare.returncode == 1
    assert re.search(r'OSError: lib\w+\.so\.[\d.]+: cannot open shared '
                     r'object file', bare.stderr), bare.stderr


def test_the_chapter_on_mxnet_cu112_gives_the_cpu_builds_rmse(venv,
                                                              driver):
    """``python -m d2lrec train``: the chapter's AutoRec, its data and
    seeds; the GPU build's CPU operators against the CPU build's."""
    if not os.environ.get('D2LREC_DATA_DIR'):
        pytest.skip('needs the real MovieLens 100K (D2LREC_DATA_DIR)')
    results = []
    for command in ([sys.executable, '-m', 'd2lrec'],
                    [str(venv / 'bin' / 'python'), '-m', 'd2lrec']):
        out = run(*command, 'train', '--json', cwd=ROOT,
                  env=dict(os.environ, PYTHONPATH=str(ROOT),
                           LD_LIBRARY_PATH=str(driver)))
        assert out.returncode == 0, out.stderr[-3000:]
        result = json.loads(out.stdout.splitlines()[-1])
        for record in [result, *result['history']]:
            del record['seconds']  # all but the time: bit for bit
        results.append(result)
    cpu, gpu_build = results
    assert gpu_build == cpu


def test_without_a_driver_it_says_so(venv):
    imported = python(venv, ['-c', 'import d2lrec'])
    assert imported.returncode == 1
    message = imported.stderr.splitlines()[-1]
    assert message == (
        'd2lrec._compat.StackError: mxnet-cu112 1.9.1 needs an NVIDIA '
        'driver (libcuda.so.1), and none is installed here. Fix: install '
        'the NVIDIA driver (450.80 or newer, for CUDA 11), or use CPU '
        'mxnet: pip uninstall -y mxnet-cu112 && pip install mxnet==1.9.1.')
    cli = python(venv, ['-m', 'd2lrec', 'train'])
    assert (cli.returncode, cli.stdout) == (1, '')
    assert cli.stderr == f'd2lrec: error: {message.split(": ", 1)[1]}\n'


def test_a_driver_too_old_for_cuda_11_is_named(venv, driver):
    """A driver for CUDA 10.2: mxnet-cu112 counts no GPU, and says why."""
    old = {'D2LREC_STAND_IN_CUDA': '10020'}
    code = ('import d2lrec, warnings; warnings.simplefilter("always"); '
            'd2lrec.try_all_gpus()')
    note = python(venv, ['-c', code], driver, **old)
    why = ('the NVIDIA driver supports CUDA 10.2, but mxnet-cu112 needs '
           'CUDA 11: update the driver to 450.80 or newer')
    assert f'GPUWarning: mxnet-cu112 runs on the CPU: {why}.' in note.stderr
    cli = python(venv, ['-m', 'd2lrec', 'train', '--device', 'gpu'],
                 driver, **old)
    assert (cli.returncode, cli.stdout) == (1, '')
    assert cli.stderr == (f'd2lrec: error: a GPU was asked for, but '
                          f'mxnet-cu112 runs on the CPU: {why}. Use '
                          f'--device cpu.\n')


FAKE_COUNT = ('import sys, d2lrec, mxnet as mx\n'
              'mx.context.num_gpus = lambda: {}  # as mxnet would count\n')


@pytest.mark.parametrize('gpus, left', [('9.0', '[cpu(0)]'),
                                        ('8.6,9.0', '[gpu(0)]')])
def test_a_gpu_newer_than_sm_86_is_left_out(venv, driver, gpus, left):
    """The driver stand-in reports the GPUs; mxnet's count of them is
    faked (mxnet-cu112 cannot start a GPU on the stand-in)."""
    code = (FAKE_COUNT.format(gpus.count(',') + 1)
            + 'import warnings; warnings.simplefilter("always")\n'
              'print(d2lrec.try_all_gpus())')
    out = python(venv, ['-c', code], driver, D2LREC_STAND_IN_GPUS=gpus)
    assert out.returncode == 0 and out.stdout == left + '\n', out.stderr
    i = len(gpus.split(',')) - 1
    assert (f'GPUWarning: gpu({i}) has compute capability 9.0, but '
            f'mxnet-cu112 1.9.1 has kernels for {_cuda.SUPPORTED} only, '
            f'with no PTX, so it cannot run on Hopper (H100, H200) or '
            f'newer GPUs; it is left out.') in out.stderr
    code = (FAKE_COUNT.format(gpus.count(',') + 1)
            + 'from d2lrec.lab.cli import main\n'
              'sys.exit(main(["train", "--device", "gpu"]))')
    cli = python(venv, ['-c', code], driver, D2LREC_STAND_IN_GPUS=gpus)
    assert (cli.returncode, cli.stdout) == (1, '')
    assert cli.stderr.startswith(f'd2lrec: error: a GPU was asked for, '
                                 f'but gpu({i}) has compute capability 9.0')
    assert 'Traceback' not in cli.stderr

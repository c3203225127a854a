"""d2lrec/_cuda.py and the GPU stack's words, without the GPU stack.

The GPU stack's own venv is tests/test_gpu_stack.py's (``make
test-gpu-stack``).  Here, in fresh processes: the two stack files agree;
a site-packages shaped like mxnet-cu112's but with its CUDA 11 libraries
missing, or of CUDA 12, makes ``import d2lrec`` and ``python -m d2lrec``
name them and the fix; with CPU mxnet, nothing is loaded.
"""
import os
import pathlib
import subprocess
import sys

import pytest

from d2lrec import _cuda, colab

ROOT = pathlib.Path(__file__).parents[1]
STACKS = ROOT / 'd2lrec'


def pins(name):
    lines = (STACKS / name).read_text().splitlines()
    return dict(line.lower().split('==') for line in lines
                if '==' in line and not line.startswith('#'))


def test_the_gpu_stack_is_the_cpu_stack_with_mxnet_cu112_and_cuda_11():
    cpu, gpu = pins('stack.txt'), pins('stack-cu112.txt')
    assert gpu.pop('mxnet-cu112') == cpu.pop('mxnet') == '1.9.1'
    cuda = {name: gpu.pop(name) for name in list(gpu)
            if name.startswith('nvidia-')}
    assert gpu == cpu
    assert set(cuda) == {wheel for _, _, wheel in _cuda.LIBRARIES}
    assert all(name.endswith('-cu11') for name in cuda)
    assert cuda['nvidia-cudnn-cu11'].startswith('8.')
    assert colab.GPU_CAPABILITIES == _cuda.CAPABILITIES


def run_python(code, pythonpath, **env):
    return subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(map(str,
                                                            pythonpath)),
                 **env))


@pytest.fixture
def cu112_site(tmp_path):
    """A directory shaped like mxnet-cu112's site-packages, without the
    CUDA libraries; its mxnet fails if anything imports it."""
    (tmp_path / 'mxnet').mkdir()
    (tmp_path / 'mxnet' / '__init__.py').write_text(
        'raise ImportError("this stand-in mxnet was imported")\n')
    (tmp_path / 'mxnet_cu112-1.9.1.dist-info').mkdir()
    return tmp_path


def test_missing_cuda_libraries_are_named_with_the_fix(cu112_site):
    imported = run_python('import d2lrec', [cu112_site, ROOT])
    assert imported.returncode == 1
    message = imported.stderr.splitlines()[-1]
    assert message.startswith('d2lrec._compat.StackError: mxnet-cu112 '
                              '1.9.1 needs the CUDA 11 libraries, and '
                              'these are missing: libcudart.so.11.0 '
                              '(nvidia-cuda-runtime-cu11); ')
    for _, name, wheel in _cuda.LIBRARIES:
        assert f'{name} ({wheel})' in message
    assert message.endswith(f'Fix: {_cuda.FIX}, then restart Python.')
    cli = run_python('import runpy; import sys; sys.argv = ["-m"]; '
                     'runpy.run_module("d2lrec", run_name="__main__")',
                     [cu112_site, ROOT])
    assert (cli.returncode, cli.stdout) == (1, '')
    assert cli.stderr == f'd2lrec: error: {message.split(": ", 1)[1]}\n'


def test_cuda_12_libraries_are_named_as_the_wrong_version(cu112_site):
    """NVIDIA's CUDA 12 wheels (as torch installs them) are no use to
    mxnet-cu112: the message says that what it found is another CUDA."""
    lib = cu112_site / 'nvidia' / 'cuda_runtime' / 'lib'
    lib.mkdir(parents=True)
    (lib / 'libcudart.so.12').write_bytes(b'')
    imported = run_python('import d2lrec', [cu112_site, ROOT])
    assert ('libcudart.so.11.0 (nvidia-cuda-runtime-cu11; found '
            'libcudart.so.12, of another CUDA version)') in imported.stderr


def test_with_cpu_mxnet_nothing_is_loaded():
    """No CUDA library enters the process, and mxnet-cu112 is not seen."""
    out = run_python('import d2lrec, d2lrec._cuda as c; '
                     'maps = open("/proc/self/maps").read(); '
                     'print(c.site_packages(), "libcudart" in maps)',
                     [ROOT])
    assert (out.returncode, out.stdout) == (0, 'None False\n'), out.stderr

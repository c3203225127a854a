"""A stand-in NVIDIA driver, libcuda.so.1, built from libcuda.c (see
there) with the C compiler, for the GPU-stack tests."""
import pathlib
import shutil
import subprocess

SOURCE = pathlib.Path(__file__).with_name('libcuda.c')


def build(directory):
    """Build libcuda.so.1 in `directory`; return the directory."""
    compiler = shutil.which('cc') or shutil.which('gcc')
    assert compiler, 'the GPU-stack tests need a C compiler (cc) for ' \
                     'their driver stand-in'
    subprocess.run([compiler, '-shared', '-fPIC', '-O1', '-o',
                    str(directory / 'libcuda.so.1'), str(SOURCE)],
                   check=True)
    return directory

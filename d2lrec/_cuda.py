"""mxnet-cu112's CUDA 11 libraries and NVIDIA driver, from pip alone
(D2L §6.7, "GPUs", on the book's GPU build; docs/gpu.md).

mxnet-cu112 1.9.1 links against the CUDA 11 libraries but does not bundle
them, and the loader looks for them only on its usual paths.
``d2lrec/stack-cu112.txt`` installs them as NVIDIA's wheels, under
``site-packages/nvidia/*/lib``.  `load_cuda_libraries`, which ``import
d2lrec`` calls before mxnet is imported, loads them from there, globally
and dependencies first, so that libmxnet.so finds them already loaded:
no LD_LIBRARY_PATH, conda or system CUDA.  A library that is not there
may come from the loader's paths (a conda environment, a system CUDA).
With CPU mxnet it does nothing.  It raises `StackError`, saying why and
what fixes it, when a library or the driver (libcuda.so.1) is missing.

`gpu_problem` says why mxnet-cu112 sees no GPU, and `unusable_gpus`
which GPUs it cannot run, from the driver itself.
"""
import ctypes
import importlib.util
import pathlib

from d2lrec._compat import StackError

#: What libmxnet.so needs, in loading order (dependencies first): the
#: wheel's directory under site-packages/nvidia, the library, its wheel.
LIBRARIES = (
    ('cuda_runtime', 'libcudart.so.11.0', 'nvidia-cuda-runtime-cu11'),
    ('cublas', 'libcublasLt.so.11', 'nvidia-cublas-cu11'),
    ('cublas', 'libcublas.so.11', 'nvidia-cublas-cu11'),
    ('cudnn', 'libcudnn.so.8', 'nvidia-cudnn-cu11'),
    ('cufft', 'libcufft.so.10', 'nvidia-cufft-cu11'),
    ('curand', 'libcurand.so.10', 'nvidia-curand-cu11'),
    ('cusolver', 'libcusolver.so.11', 'nvidia-cusolver-cu11'),
    ('nccl', 'libnccl.so.2', 'nvidia-nccl-cu11'),
    ('cuda_nvrtc', 'libnvrtc.so.11.2', 'nvidia-cuda-nvrtc-cu11'),
    ('nvtx', 'libnvToolsExt.so.1', 'nvidia-nvtx-cu11'),
)

#: The compute capabilities mxnet-cu112 1.9.1 runs: kernels for sm_50 to
#: sm_86 and no PTX; 8.9 (Ada) runs 8.6 code.
CAPABILITIES = ((5, 0), (8, 9))
SUPPORTED = 'sm_50 to sm_86 (Maxwell to Ampere, and Ada)'

FIX = 'pip install --no-deps -r d2lrec/stack-cu112.txt (docs/gpu.md)'
NO_DEVICE = 100


def site_packages():
    """The directory holding mxnet-cu112 1.9.1, or None if it is not
    installed (CPU mxnet, or none).  Imports nothing; one stat."""
    spec = importlib.util.find_spec('mxnet')
    if spec is None or not spec.submodule_search_locations:
        return None
    site = pathlib.Path(spec.submodule_search_locations[0]).parent
    return site if (site / 'mxnet_cu112-1.9.1.dist-info').is_dir() else None


def _load(path):
    ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)


def _other_versions(site, name):
    """Other major versions of library `name` in NVIDIA's wheels."""
    stem = name.split('.so.')[0]
    return sorted(p.name for p in site.glob(f'nvidia/*/lib/{stem}.so.*'))


def load_cuda_libraries():
    """Load mxnet-cu112's CUDA libraries from NVIDIA's wheels, and check
    the driver; raise `StackError` saying what is missing.  Nothing
    happens unless mxnet-cu112 is installed."""
    site = site_packages()
    if site is None:
        return
    missing = []
    for folder, name, wheel in LIBRARIES:
        path = site / 'nvidia' / folder / 'lib' / name
        try:
            _load(path if path.exists() else name)  # else: loader's paths
        except OSError:
            others = _other_versions(site, name)
            missing.append(f'{name} ({wheel}'
                           + (f'; found {", ".join(others)}, of another '
                              f'CUDA version' if others else '') + ')')
    if missing:
        raise StackError(
            f'mxnet-cu112 1.9.1 needs the CUDA 11 libraries, and these are '
            f'missing: {"; ".join(missing)}. Fix: {FIX}, then restart '
            f'Python.')
    try:
        _load('libcuda.so.1')
    except OSError:
        raise StackError(
            'mxnet-cu112 1.9.1 needs an NVIDIA driver (libcuda.so.1), and '
            'none is installed here. Fix: install the NVIDIA driver (450.80 '
            'or newer, for CUDA 11), or use CPU mxnet: pip uninstall -y '
            'mxnet-cu112 && pip install mxnet==1.9.1.') from None


def _driver():
    return ctypes.CDLL('libcuda.so.1')


def driver_cuda_version():
    """The CUDA version the driver supports, e.g. ``(12, 4)``."""
    version = ctypes.c_int()
    _driver().cuDriverGetVersion(ctypes.byref(version))
    return divmod(version.value // 10, 100)


def capabilities():
    """The compute capability of each GPU the driver sees, in order."""
    try:
        driver, count = _driver(), ctypes.c_int()
    except OSError:  # no driver
        return []
    if driver.cuInit(0) or driver.cuDeviceGetCount(ctypes.byref(count)):
        return []
    found = []
    for i in range(count.value):
        major, minor = ctypes.c_int(), ctypes.c_int()
        driver.cuDeviceGetAttribute(ctypes.byref(major), 75, i)
        driver.cuDeviceGetAttribute(ctypes.byref(minor), 76, i)
        found.append((major.value, minor.value))
    return found


def gpu_problem():
    """Why mxnet-cu112 sees no GPU, with the fix, as one line."""
    try:
        cuda = driver_cuda_version()
    except OSError:
        return 'no NVIDIA driver (libcuda.so.1) is installed'
    if cuda < (11, 0):
        return (f'the NVIDIA driver supports CUDA {cuda[0]}.{cuda[1]}, but '
                f'mxnet-cu112 needs CUDA 11: update the driver to 450.80 '
                f'or newer')
    result = _driver().cuInit(0)
    if result == NO_DEVICE:
        return ('the NVIDIA driver finds no GPU (check nvidia-smi and '
                'CUDA_VISIBLE_DEVICES)')
    if result:
        return f'the NVIDIA driver failed to start (CUDA error {result})'
    return 'mxnet-cu112 finds no GPU that the driver reports'


def unusable_gpus():
    """``{i: why}`` for each GPU that mxnet-cu112 has no kernels for."""
    return {i: (f'gpu({i}) has compute capability {major}.{minor}, but '
                f'mxnet-cu112 1.9.1 has kernels for {SUPPORTED} only, with '
                f'no PTX, so it cannot run on Hopper (H100, H200) or newer '
                f'GPUs')
            for i, (major, minor) in enumerate(capabilities())
            if not CAPABILITIES[0] <= (major, minor) <= CAPABILITIES[1]}

"""The command line's ``--device`` (D2L §6.7, "GPUs"): `choose_devices`
says why when a GPU was asked for and cannot be used, instead of quietly
running on the CPU as the book's `d2lrec.devices.try_all_gpus` does.
"""
import mxnet as mx

from d2lrec import _cuda
from d2lrec.devices import try_all_gpus, usable_gpus


class DeviceError(RuntimeError):
    """The requested devices cannot be used; the message says why."""


def _gpu_problem(i):
    """Run one tiny operator on gpu(i); return why it failed, or None."""
    try:
        (mx.np.ones((2, 2), ctx=mx.gpu(i)) * 2).asnumpy()
    except mx.base.MXNetError as e:
        text = str(e)
        if 'no kernel image' in text:
            return (f'gpu({i}) has no kernels in this mxnet build: '
                    f'mxnet-cu112 1.9.1 supports {_cuda.SUPPORTED} only, '
                    f'with no PTX, so it cannot run on Hopper (H100/H200) '
                    f'or newer GPUs. Use --device cpu.')
        return f'gpu({i}) failed a test operation: {text.splitlines()[0]}'
    return None


def choose_devices(kind='auto'):
    """Return the devices for `kind` (``auto``, ``cpu`` or ``gpu``).

    ``auto`` is `try_all_gpus`; ``gpu`` returns every GPU and raises
    `DeviceError`, saying why, if there is none or one does not work.
    """
    if kind == 'cpu':
        return [mx.cpu()]
    if kind == 'auto':
        return try_all_gpus()
    if kind != 'gpu':
        raise ValueError(f"device must be 'auto', 'cpu' or 'gpu', got "
                         f'{kind!r}')
    if not mx.runtime.Features().is_enabled('CUDA'):
        raise DeviceError(
            f'a GPU was asked for, but this mxnet is a CPU build. Install '
            f'the GPU stack, mxnet-cu112 with the CUDA 11 libraries: '
            f'{_cuda.FIX}, or use --device cpu.')
    try:
        gpus, problems = usable_gpus()
    except mx.base.MXNetError as e:
        raise DeviceError(
            f'a GPU was asked for, but the CUDA driver could not be '
            f'queried ({str(e).splitlines()[0]}). Check that an NVIDIA '
            f'driver is installed (nvidia-smi), or use --device cpu.'
        ) from e
    if problems:
        raise DeviceError(f'a GPU was asked for, but {problems[0]}. Use '
                          f'--device cpu.')
    for gpu in gpus:
        problem = _gpu_problem(gpu.device_id)
        if problem:
            raise DeviceError(f'a GPU was asked for, but {problem}')
    return gpus

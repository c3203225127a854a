"""Devices (D2L §6.7, "GPUs") and how the evaluators split a batch over
them (§13.5).

d2lrec replaces d2l 1.0.3's ``try_all_gpus``, which returns ``[]`` on a
machine without a GPU, so the book's ``split_and_load`` divides by zero.
`choose_devices` backs ``--device``: it says why when a GPU was asked for
and cannot be used, instead of quietly running on the CPU.  With
mxnet-cu112, `try_all_gpus` leaves out the GPUs it has no kernels for
(Hopper and newer) and warns why, as it does when it finds no GPU at all
(`d2lrec._cuda` asks the driver).
"""
import warnings

import mxnet as mx
from mxnet import gluon

from d2lrec import _cuda

#: mxnet-cu112 1.9.1 carries GPU kernels for these architectures only.
SUPPORTED_SM = _cuda.SUPPORTED


class DeviceError(RuntimeError):
    """The requested devices cannot be used; the message says why."""


def try_gpu(i=0):
    """Return ``gpu(i)`` if it exists, otherwise ``cpu()`` (D2L §6.7)."""
    return mx.gpu(i) if mx.context.num_gpus() >= i + 1 else mx.cpu()


class GPUWarning(UserWarning):
    """mxnet-cu112 leaves out a GPU, or finds none; the message says why."""


def usable_gpus():
    """Return the GPUs this mxnet can run, and why mxnet-cu112 leaves
    any out (a list of lines; always empty with CPU mxnet)."""
    count = mx.context.num_gpus()
    if count == 0:
        if not mx.runtime.Features().is_enabled('CUDA'):
            return [], []
        return [], [f'mxnet-cu112 runs on the CPU: {_cuda.gpu_problem()}']
    unusable = _cuda.unusable_gpus()
    return ([mx.gpu(i) for i in range(count) if i not in unusable],
            [f'{why}; it is left out' for why in unusable.values()])


def try_all_gpus():
    """Return all available GPUs, or ``[cpu()]`` if there is none
    (D2L §6.7); with mxnet-cu112, warn why a GPU is left out."""
    gpus, problems = usable_gpus()
    for problem in problems:
        warnings.warn(problem + '.', GPUWarning, stacklevel=2)
    return gpus or [mx.cpu()]


def split_batch(arrays, devices, even_split=False):
    """Split each of `arrays`, one batch, over `devices` with the book's
    ``split_and_load``; return one tuple of parts per device.

    With `even_split`, as the book trains, every device gets as many rows:
    a batch that cannot be split so raises ValueError saying which batch
    size would.  Without it, as the book evaluates, parts may differ, and
    devices left with no rows (a batch smaller than the number of
    devices) are left out, because MXNet 1.9.1 fails on empty arrays
    (``Dense``, ``sum``).
    """
    num_examples, num_devices = arrays[0].shape[0], len(devices)
    if even_split and num_examples % num_devices:
        raise ValueError(
            f'a training batch of size {num_examples} cannot be split '
            f'evenly over the {num_devices} devices {devices}: make the '
            f'batch size a multiple of {num_devices}, the last batch\'s '
            f"too (DataLoader's last_batch='rollover' or 'discard'), or "
            f'use fewer devices')
    parts = [gluon.utils.split_and_load(a, devices, even_split=even_split)
             for a in arrays]
    return [part for part in zip(*parts) if part[0].shape[0]]


def _gpu_problem(i):
    """Run one tiny operator on gpu(i); return why it failed, or None."""
    try:
        (mx.np.ones((2, 2), ctx=mx.gpu(i)) * 2).asnumpy()
    except mx.base.MXNetError as e:
        text = str(e)
        if 'no kernel image' in text:
            return (f'gpu({i}) has no kernels in this mxnet build: '
                    f'mxnet-cu112 1.9.1 supports {SUPPORTED_SM} only, with '
                    f'no PTX, so it cannot run on Hopper (H100/H200) or '
                    f'newer GPUs. Use --device cpu.')
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
            'a GPU was asked for, but this mxnet is a CPU build. Install '
            'the GPU stack, mxnet-cu112 with the CUDA 11 libraries: pip '
            'install --no-deps -r d2lrec/stack-cu112.txt (docs/gpu.md), '
            'or use --device cpu.')
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

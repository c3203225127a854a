"""Devices (D2L §6.7, "GPUs") and how the evaluators split a batch over
them (§13.5).

d2lrec replaces d2l 1.0.3's ``try_all_gpus``, which returns ``[]`` on a
machine without a GPU, so the book's ``split_and_load`` divides by zero.
With mxnet-cu112, `try_all_gpus` leaves out the GPUs it has no kernels
for (Hopper and newer) and warns why, as it does when it finds no GPU at
all (`d2lrec._cuda` asks the driver).
"""
import warnings

import mxnet as mx
from mxnet import gluon

from d2lrec import _cuda

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
    ``split_and_load``; return one tuple of parts per device.  With
    `even_split` (as the book trains) a batch that does not split evenly
    raises ValueError; without it (as the book evaluates) devices left
    with no rows are left out, as MXNet 1.9.1 fails on empty arrays."""
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

"""Devices (D2L §6.7, "GPUs").

d2lrec replaces d2l 1.0.3's ``try_all_gpus``, which returns ``[]`` on a
machine without a GPU, so the book's ``split_and_load`` divides by zero.
"""
import mxnet as mx


def try_gpu(i=0):
    """Return ``gpu(i)`` if it exists, otherwise ``cpu()`` (D2L §6.7)."""
    return mx.gpu(i) if mx.context.num_gpus() >= i + 1 else mx.cpu()


def try_all_gpus():
    """Return all available GPUs, or ``[cpu()]`` if there is none
    (D2L §6.7)."""
    return [mx.gpu(i) for i in range(mx.context.num_gpus())] or [mx.cpu()]

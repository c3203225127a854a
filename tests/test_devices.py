"""Choosing devices: the book's try_gpu and try_all_gpus
(d2lrec.devices), and the command line's choose_devices with its reasons
(d2lrec.lab.devices).  Splitting batches over devices:
test_multi_device.py."""
import mxnet as mx
import pytest

import d2lrec.lab.devices as devices_module
from d2lrec.devices import try_all_gpus, try_gpu


def test_cpu_fallback_without_gpus(monkeypatch):
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 0)
    assert try_all_gpus() == [mx.cpu()]
    assert try_gpu() == mx.cpu()
    assert try_gpu(1) == mx.cpu()


def test_gpus_when_there_are_some(monkeypatch):
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 2)
    assert try_all_gpus() == [mx.gpu(0), mx.gpu(1)]
    assert try_gpu() == mx.gpu(0)
    assert try_gpu(1) == mx.gpu(1)
    assert try_gpu(2) == mx.cpu()


def test_choose_devices_branches(monkeypatch):
    assert devices_module.choose_devices('cpu') == [mx.cpu()]
    assert devices_module.choose_devices('auto') == [mx.cpu()]

    class CudaBuild:
        def is_enabled(self, name):
            return True

    monkeypatch.setattr(mx.runtime, 'Features', CudaBuild)
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 0)
    with pytest.raises(devices_module.DeviceError,
                       match='runs on the CPU: no NVIDIA driver'):
        devices_module.choose_devices('gpu')
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 1)
    monkeypatch.setattr(devices_module, '_gpu_problem',
                        lambda i: 'gpu(0) has no kernels in this build')
    with pytest.raises(devices_module.DeviceError, match='no kernels'):
        devices_module.choose_devices('gpu')
    monkeypatch.setattr(devices_module, '_gpu_problem', lambda i: None)
    assert devices_module.choose_devices('gpu') == [mx.gpu(0)]

"""One file per saved model, its parameters and configuration together
(beyond D2L §16.4; the nets are §16.4's AutoRec and §16.3's MF).

`save_model` writes a NumPy ``.npz`` file (a zip that ``numpy.load``
reads without d2lrec or mxnet) holding:

- one array per parameter, named as ``net.save_parameters`` names them
  (``encoder.0.weight``, ``decoder.bias``, ... or ``P.weight``, ...);
- ``config``: a JSON string, ``{"format": "d2lrec-model", "version": 1,
  "config": {...}, "num_users": ..., "num_items": ...}``, where
  ``config`` holds every setting of the run's `d2lrec.lab.config.Config`;
  with the sizes it is what `d2lrec.lab.models.build_net` needs to
  rebuild the net.

The file is written to a temporary file beside it, flushed to disk and
moved into place with one ``os.replace``, so a model file is always whole:
the old one or the new one.  `load_model` rebuilds the net from the
configuration and checks that the parameters fit it, name by name and
shape by shape.  Problems with a model file raise `ModelFileError`.
"""
import dataclasses
import io
import json
import numbers
import os
import tempfile
import zipfile

import numpy as onp

from d2lrec.lab.config import Config

MODEL_FORMAT, MODEL_VERSION = 'd2lrec-model', 1

#: The name of the configuration in the file (parameter names have dots).
CONFIG = 'config'


class ModelFileError(RuntimeError):
    """A saved model is missing, unreadable or does not fit its config.

    The message says which file, what is wrong with it and what to do.
    """


# ---------------------------------------------------------- configuration

def _config_text(config, num_users, num_items):
    """The JSON string of a model's `Config` and sizes in its file."""
    return json.dumps({'format': MODEL_FORMAT, 'version': MODEL_VERSION,
                       'config': dataclasses.asdict(config),
                       'num_users': num_users, 'num_items': num_items},
                      sort_keys=True)


def _config_of(text):
    """``(config, num_users, num_items)`` of a model file's JSON `text`;
    raise ValueError saying what is wrong."""
    meta = json.loads(text)
    if not isinstance(meta, dict) or meta.get('format') != MODEL_FORMAT:
        raise ValueError(f'it is not a {MODEL_FORMAT} file')
    if meta.get('version') != MODEL_VERSION:
        raise ValueError(f'its version {meta.get("version")!r} is not '
                         f'{MODEL_VERSION}')
    settings = meta.get('config')
    if not isinstance(settings, dict):
        raise ValueError(f'its config is not a dict: {settings!r}')
    try:
        config = Config(**settings)
    except TypeError as e:  # a setting Config does not have
        raise ValueError(f'its config does not fit d2lrec ({e})') from e
    return config, _size(meta, 'num_users'), _size(meta, 'num_items')


def _size(meta, key):
    value = meta.get(key)
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or value < 1):
        raise ValueError(f'{key} must be a positive integer, got '
                         f'{value!r}')
    return value


# ------------------------------------------------------------- parameters
# MXNet 1.9 has no public dict of a net's parameters by the names of its
# structure (``encoder.0.weight``): ``save_parameters`` and
# ``load_parameters`` use ``_collect_params_with_prefix`` and each
# parameter's ``_load_init``, and so do `_params` and `_load_params`.

def _params(net):
    """The parameters of `net` as NumPy arrays, by the names that
    ``net.save_parameters`` gives them (on several devices, the first
    device's copy: they are the same)."""
    from mxnet.gluon.parameter import DeferredInitializationError
    try:
        return {name: param.list_data()[0].asnumpy() for name, param
                in net._collect_params_with_prefix().items()}
    except DeferredInitializationError as e:
        raise ValueError('the net has not been run yet, so its parameters '
                         'have no shape: train it (or pass one batch '
                         'through it) before saving') from e


def _load_params(net, arrays, config, devices):
    """Load `arrays` (`_params`' dict) into `net` on `devices`, as
    ``net.load_parameters`` loads a file; raise ValueError if they do not
    fit `config`: a name missing or too many, or a shape that differs."""
    from mxnet import np
    params = net._collect_params_with_prefix()
    try:
        if sorted(arrays) != sorted(params):
            raise ValueError(f'the file holds {sorted(arrays)}, the net '
                             f'has {sorted(params)}')
        for name, param in params.items():
            param._load_init(np.array(arrays[name]), devices)
    except (AssertionError, ValueError) as e:  # asserts: shape or dtype
        raise ValueError(f'the parameters do not fit the config {config} '
                         f'({e})') from e


# ---------------------------------------------------------------- files

def save_model(net, config, num_users, num_items, path):
    """Save `net`, its `Config` and sizes to the one file `path`; return
    `path`.

    See the module's docstring for the format.  First checked (the
    parameters must load into ``build_net(config, ...)``), then written to a
    temporary file beside `path`, flushed to disk and moved into place
    with ``os.replace``: on any error, Ctrl-C included, nothing is left
    behind and a model already at `path` is unchanged.  A config that is
    invalid or does not fit `net` raises ValueError; a failed write (a
    full disk, a missing folder) raises `ModelFileError`.
    """
    import mxnet as mx
    from d2lrec.lab.models import build_net
    arrays = _params(net)
    try:
        _load_params(build_net(config, num_users, num_items), arrays,
                     config, [mx.cpu()])
    except ValueError as e:
        raise ValueError(f'the net does not fit its config: {e}') from e
    arrays[CONFIG] = _config_text(config, num_users, num_items)
    npz = io.BytesIO()  # in memory: a failed write cannot leave it open
    onp.savez(npz, **arrays)
    path = os.fspath(path)
    try:
        _write(path, npz.getbuffer())
    except OSError as e:
        raise ModelFileError(_write_problem(e, path)) from e
    return path


def _write(path, data):
    """Write the bytes `data` to `path`, all or nothing."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(dir=folder, suffix='.tmp',
                                prefix=f'.{os.path.basename(path)}.')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        os.remove(temp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder):
    """Make the rename in `folder` durable (POSIX; best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:  # not every system can open or sync a folder
        pass


def _write_problem(e, path):
    reason = e.strerror or str(e)
    if e.filename:
        reason += f': {e.filename}'
    return (f'could not save the model to {path} ({reason}). Nothing '
            f'was written there, and a model '
            f'already at {path} is unchanged. Check that the folder '
            f'exists and is writable and that the disk has space, or save '
            f'elsewhere (python -m d2lrec train --save PATH).')


def load_model(path, devices=None):
    """Return ``(net, config, num_users, num_items)`` saved by
    `save_model` at `path`.

    The net is rebuilt by `d2lrec.lab.models.build_net` and its
    parameters loaded onto
    `devices` (default: `d2lrec.devices.try_all_gpus()`).  A missing,
    unreadable or corrupt file, a bad config, or parameters that do not
    fit it raise `ModelFileError`.
    """
    from d2lrec.devices import try_all_gpus
    from d2lrec.lab.models import build_net
    path = os.fspath(path)
    (config, num_users, num_items), arrays = _read(path)
    net = build_net(config, num_users, num_items)
    try:
        _load_params(net, arrays, config, devices or try_all_gpus())
    except ValueError as e:
        raise _model_error(path, str(e)) from e
    return net, config, num_users, num_items


def _read(path):
    """``((config, num_users, num_items), arrays)`` of the model file at
    `path`."""
    if not os.path.isfile(path):
        raise _model_error(path, 'the file does not exist')
    try:
        with onp.load(path, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
        if CONFIG not in arrays:
            raise ValueError(f'it holds no {CONFIG}')
        return _config_of(str(arrays.pop(CONFIG))), arrays
    # np.load: EOFError when empty, TypeError (no `with`) for a .npy file,
    # BadZipFile for a damaged zip (a wrong CRC-32 included)
    except (OSError, EOFError, TypeError, ValueError,
            zipfile.BadZipFile) as e:
        raise _model_error(path, f'the file is unreadable or invalid '
                                 f'({e})') from e


def _model_error(path, problem):
    return ModelFileError(f'cannot load the model {path}: {problem}. '
                          f'Train and save a model there with python -m '
                          f'd2lrec train --save {path}.')

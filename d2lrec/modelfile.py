"""One file per saved model, its parameters and configuration together
(beyond D2L §16.4; the nets are §16.4's AutoRec and §16.3's MF).

`save_model` writes a NumPy ``.npz`` file (a zip that ``numpy.load``
reads without d2lrec or mxnet) holding:

- one array per parameter, named as ``net.save_parameters`` names them
  (``encoder.0.weight``, ``decoder.bias``, ... or ``P.weight``, ...);
- ``config``: a JSON string, ``{"format": "d2lrec-model", "version": 1,
  "config": {...}}``, where ``config`` holds what `build_net` needs to
  rebuild the net (see `CONFIG_KEYS`) and any other keys given (the
  seed).

The file is written to a temporary file beside it, flushed to disk and
moved into place with one ``os.replace``, so a model file is always whole:
the old one or the new one.  `load_model` rebuilds the net from the
configuration and checks that the parameters fit it, name by name and
shape by shape.  Problems with a model file raise `ModelFileError`.
"""
import io
import json
import numbers
import os
import tempfile
import zipfile

import numpy as onp

from d2lrec.config import ACTIVATIONS, MODELS

#: The keys of a model's config; `save_model` keeps other keys as well.
CONFIG_KEYS = ('model', 'hidden_layers', 'encoder_act', 'decoder_act',
               'dropout', 'num_factors', 'num_users', 'num_items')
MODEL_FORMAT, MODEL_VERSION = 'd2lrec-model', 1

#: The name of the configuration in the file (parameter names have dots).
CONFIG = 'config'


class ModelFileError(RuntimeError):
    """A saved model is missing, unreadable or does not fit its config.

    The message says which file, what is wrong with it and what to do.
    """


# ---------------------------------------------------------- configuration

def model_config(model, num_users, num_items, hidden_layers=(500,),
                 encoder_act='sigmoid', decoder_act='identity',
                 dropout=0.05, num_factors=30, **extra):
    """Return a checked config for `save_model` (the defaults are D2L
    §16.4's AutoRec and §16.3's 30 factors); `extra` keys (JSON values,
    such as the seed) are kept."""
    return check_config(dict(
        extra, model=model, num_users=num_users, num_items=num_items,
        hidden_layers=hidden_layers, encoder_act=encoder_act,
        decoder_act=decoder_act, dropout=dropout, num_factors=num_factors))


def check_config(config):
    """Return a normalized copy of `config` (plain ints and floats,
    ``hidden_layers`` a tuple); raise ValueError naming what is wrong."""
    if not isinstance(config, dict):
        raise ValueError(f'the config must be a dict, got '
                         f'{type(config).__name__}')
    missing = [key for key in CONFIG_KEYS if key not in config]
    if missing:
        raise ValueError(f'the config lacks {", ".join(missing)}')
    config = dict(config)
    if config['model'] not in MODELS:
        raise ValueError(f'model must be one of {MODELS}, got '
                         f'{config["model"]!r}')
    for key in ('encoder_act', 'decoder_act'):
        if config[key] not in ACTIVATIONS:
            raise ValueError(f'{key} must be one of {ACTIVATIONS}, got '
                             f'{config[key]!r}')
    layers = config['hidden_layers']
    if isinstance(layers, (str, bytes)) or not hasattr(layers, '__iter__'):
        raise ValueError(f'hidden_layers must be a list of sizes, got '
                         f'{layers!r}')
    config['hidden_layers'] = tuple(_positive_int(size, 'hidden_layers')
                                    for size in layers)
    if not config['hidden_layers']:
        raise ValueError('hidden_layers is empty')
    for key in ('num_factors', 'num_users', 'num_items'):
        config[key] = _positive_int(config[key], key)
    dropout = config['dropout']
    if (isinstance(dropout, bool) or not isinstance(dropout, numbers.Real)
            or not 0 <= dropout < 1):
        raise ValueError(f'dropout must be in [0, 1), got {dropout!r}')
    config['dropout'] = float(dropout)
    return config


def _positive_int(value, key):
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or value < 1):
        raise ValueError(f'{key} must hold positive integers, got '
                         f'{value!r}')
    return int(value)


def _config_text(config):
    """The JSON string of `config` that a model file holds."""
    try:
        return json.dumps({'format': MODEL_FORMAT, 'version': MODEL_VERSION,
                           'config': config}, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise ValueError(f'the config is not JSON-serializable: {e}') from e


def _config_of(text):
    """The checked config of a model file's JSON string `text`."""
    meta = json.loads(text)
    if not isinstance(meta, dict) or meta.get('format') != MODEL_FORMAT:
        raise ValueError(f'it is not a {MODEL_FORMAT} file')
    if meta.get('version') != MODEL_VERSION:
        raise ValueError(f'its version {meta.get("version")!r} is not '
                         f'{MODEL_VERSION}')
    return check_config(meta.get('config'))


def build_net(config):
    """Return the uninitialized net of a config (see `CONFIG_KEYS`):
    a `DeepAutoRec` (D2L §16.4) with one output per user (``'autorec'``)
    or per item (``'uautorec'``), or §16.3's `MF` (``'mf'``)."""
    config = check_config(config)
    if config['model'] == 'mf':
        from d2lrec.mf import MF
        return MF(config['num_factors'], config['num_users'],
                  config['num_items'])
    from d2lrec.autorec import DeepAutoRec
    outputs = config['num_users' if config['model'] == 'autorec'
                     else 'num_items']
    return DeepAutoRec(config['hidden_layers'], outputs,
                       config['encoder_act'], config['decoder_act'],
                       config['dropout'])


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

def save_model(net, config, path):
    """Save `net` and its `config` to the one file `path`; return `path`.

    See the module's docstring for the format.  First checked (the
    parameters must load into ``build_net(config)``), then written to a
    temporary file beside `path`, flushed to disk and moved into place
    with ``os.replace``: on any error, Ctrl-C included, nothing is left
    behind and a model already at `path` is unchanged.  A config that is
    invalid or does not fit `net` raises ValueError; a failed write (a
    full disk, a missing folder) raises `ModelFileError`.
    """
    import mxnet as mx
    config = check_config(config)
    arrays = _params(net)
    try:
        _load_params(build_net(config), arrays, config, [mx.cpu()])
    except ValueError as e:
        raise ValueError(f'the net does not fit its config: {e}') from e
    arrays[CONFIG] = _config_text(config)
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
    """Return ``(net, config)`` saved by `save_model` at `path`.

    The net is rebuilt by `build_net` and its parameters loaded onto
    `devices` (default: `d2lrec.devices.try_all_gpus()`).  A missing,
    unreadable or corrupt file, a bad config, or parameters that do not
    fit it raise `ModelFileError`.
    """
    from d2lrec.devices import try_all_gpus
    path = os.fspath(path)
    config, arrays = _read(path)
    net = build_net(config)
    try:
        _load_params(net, arrays, config, devices or try_all_gpus())
    except ValueError as e:
        raise _model_error(path, str(e)) from e
    return net, config


def _read(path):
    """``(config, arrays)`` of the model file at `path`."""
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

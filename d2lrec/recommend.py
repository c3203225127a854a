"""Recommendations from a trained model, and saving and loading it
(beyond D2L §16.4; the data is §16.2's MovieLens 100K).

After training, `predict_ratings` fills in the whole items x users rating
matrix, `recommend` picks a user's best-predicted movies among those the
user has not rated, with titles and years from ``u.item``
(`d2lrec.data.read_items_ml100k`), and `top_rated` lists the user's own
favourites beside them as a sanity check.  `format_recommendations` turns
both into the lines that ``python -m d2lrec recommend`` prints.

`save_model` writes a model as two files, both replaced atomically:

- ``PATH``: the parameters, as ``net.save_parameters(PATH)`` writes them;
- ``PATH.json`` (`config_path`): ``{"format": "d2lrec-model",
  "version": 1, "config": {...}, "params_sha256": "..."}``, where
  ``config`` holds what `build_net` needs to rebuild the net (see
  `CONFIG_KEYS`) and ``params_sha256`` the hash of ``PATH``, so that
  `load_model` notices parameters that are not the ones saved with it.

Problems with a model file raise `ModelFileError`.
"""
import json
import numbers
import os
import tempfile

import numpy as onp
import pandas as pd

from d2lrec.config import ACTIVATIONS, MODELS
from d2lrec.download import file_hash
from d2lrec.movielens import RATING_RANGE

#: Rows (items or users) per forward pass in `predict_ratings`; for MF,
#: (user, item) pairs per pass.
BATCH_ROWS = 1024
BATCH_PAIRS = 1 << 16

#: The keys of a model's config; `save_model` keeps other keys as well.
CONFIG_KEYS = ('model', 'hidden_layers', 'encoder_act', 'decoder_act',
               'dropout', 'num_factors', 'num_users', 'num_items')
MODEL_FORMAT, MODEL_VERSION = 'd2lrec-model', 1


class ModelFileError(RuntimeError):
    """A saved model is missing, unreadable or does not fit its config.

    The message says which file, what is wrong with it and what to do.
    """


# ---------------------------------------------------------- predictions

def predict_ratings(net, model, num_users, num_items, data, devices=None):
    """Return the predicted ratings, a NumPy float32 array items x users.

    `data` holds the ratings the model sees (``u.data``'s columns, 1-based
    ids).  For `model` ``'autorec'`` (item-based, D2L §16.4) the net
    reconstructs each row of the items x users matrix of `data`; for
    ``'uautorec'`` each row of the users x items matrix; for ``'mf'``
    (§16.3) it scores every (user, item) pair and `data` is only checked.
    Runs in inference mode (no dropout, nothing recorded), in batches, on
    the first of `devices` (default: where the net's parameters are).
    Predictions are clipped to the rating range 1..5.
    """
    if model not in MODELS:
        raise ValueError(f'model must be one of {MODELS}, got {model!r}')
    _check_ids(data, num_users, num_items)
    from mxnet import autograd
    device = devices[0] if devices else _net_device(net)
    with autograd.pause(train_mode=False):
        if model == 'mf':
            pred = _predict_mf(net, num_users, num_items, device)
        else:
            pred = _predict_autorec(net, model, num_users, num_items, data,
                                    device)
    return onp.clip(pred, *RATING_RANGE)


def _check_ids(data, num_users, num_items):
    for column, count in (('user_id', num_users), ('item_id', num_items)):
        ids = data[column].to_numpy()
        if len(ids) and (ids.min() < 1 or ids.max() > count):
            raise ValueError(
                f'the {column.replace("_", " ")}s of the ratings run '
                f'{ids.min()}..{ids.max()}, outside 1..{count}: the '
                f'ratings do not belong to this model')


def _net_device(net):
    """The first context of the net's first parameter."""
    for param in net.collect_params().values():
        return param.list_ctx()[0]
    raise ValueError('the net has no parameters')


def _predict_autorec(net, model, num_users, num_items, data, device):
    from mxnet import np

    from d2lrec.data import load_data_ml100k
    inter = load_data_ml100k(data, num_users, num_items)[3].asnumpy()
    rows = inter.T if model == 'uautorec' else inter
    parts = []
    for start in range(0, len(rows), BATCH_ROWS):
        batch = np.array(rows[start:start + BATCH_ROWS], ctx=device)
        parts.append(_forward_rows(net, batch, model))
    pred = onp.concatenate(parts)
    return pred.T if model == 'uautorec' else pred


def _forward_rows(net, batch, model):
    """``net(batch)`` as NumPy; ValueError if the net does not take and
    give rows as wide as `batch`."""
    from mxnet.base import MXNetError
    width = batch.shape[1]
    try:
        pred = net(batch).asnumpy()
    except MXNetError as e:
        pred = e
    if not isinstance(pred, onp.ndarray) or pred.shape != batch.shape:
        got = ('fails on them' if not isinstance(pred, onp.ndarray)
               else f'predicts {pred.shape[1]} ratings per row')
        raise ValueError(
            f'the {model} model reads and predicts rows of {width} '
            f'ratings, one per {"user" if model == "autorec" else "item"}'
            f', but the net {got}: it was built for other data')
    return pred


def _predict_mf(net, num_users, num_items, device):
    from mxnet import np
    for name, count in (('P', num_users), ('Q', num_items)):
        layer = getattr(net, name, None)  # absent: not an MF
        rows = count if layer is None else layer.weight.shape[0]
        if rows != count:
            raise ValueError(f'the MF net has {rows} rows in {name}, but '
                             f'there are {count} '
                             f'{"users" if name == "P" else "items"}: it '
                             f'was built for other data')
    items_per_batch = max(1, BATCH_PAIRS // num_users)
    users = onp.arange(num_users, dtype=onp.int32)
    parts = []
    for start in range(0, num_items, items_per_batch):
        items = onp.arange(start, min(start + items_per_batch, num_items),
                           dtype=onp.int32)
        u = np.array(onp.tile(users, len(items)), ctx=device,
                     dtype='int32')
        i = np.array(onp.repeat(items, num_users), ctx=device,
                     dtype='int32')
        parts.append(net(u, i).asnumpy().reshape(len(items), num_users))
    return onp.concatenate(parts)


# ------------------------------------------------------ recommendations

def recommend(scores, data, user_id, k=10, items=None):
    """Return the `k` movies with the highest predicted rating that user
    `user_id` (1-based) has not rated in `data` (D2L §16.4's model put to
    use).

    `scores` is `predict_ratings`' items x users array.  A DataFrame with
    the columns ``item_id``, ``title``, ``year`` (from `items`,
    `read_items_ml100k`'s result; <NA> without it) and ``predicted``,
    best first, ties broken by item id; its index is the rank, 1..k.
    Fewer rows when the user has rated all but fewer than `k` movies.
    """
    scores = onp.asarray(scores)
    num_items, num_users = scores.shape
    user_id = _check_user(user_id, num_users)
    _check_k(k)
    rated = data.item_id[data.user_id == user_id].to_numpy()
    item_ids = onp.arange(1, num_items + 1)
    unseen = ~onp.isin(item_ids, rated)
    pred = scores[unseen, user_id - 1]
    order = onp.lexsort((item_ids[unseen], -pred))[:k]
    return _with_titles(item_ids[unseen][order], items,
                        predicted=pred[order])


def top_rated(data, user_id, k=10, items=None):
    """Return the `k` movies user `user_id` (1-based) rated highest in
    `data` (a sanity check beside `recommend`; D2L §16.2's ratings).

    A DataFrame with the columns ``item_id``, ``title``, ``year`` (from
    `items`; <NA> without it) and ``rating``: highest rating first, then
    the most recent, then by item id; its index is the rank, 1..k.
    """
    num_users = int(data.user_id.max()) if len(data) else 0
    user_id = _check_user(user_id, num_users)
    _check_k(k)
    own = data[data.user_id == user_id].sort_values(
        ['rating', 'timestamp', 'item_id'], ascending=[False, False, True],
        kind='stable').head(k)
    return _with_titles(own.item_id.to_numpy(), items,
                        rating=own.rating.to_numpy())


def _check_user(user_id, num_users):
    if (isinstance(user_id, bool)
            or not isinstance(user_id, numbers.Integral)):
        raise ValueError(f'the user id must be an integer, got '
                         f'{user_id!r}')
    if not 1 <= user_id <= num_users:
        raise ValueError(f'unknown user id {user_id}: valid ids are '
                         f'1..{num_users}')
    return int(user_id)


def _check_k(k):
    if (isinstance(k, bool) or not isinstance(k, numbers.Integral)
            or k < 1):
        raise ValueError(f'k must be a positive integer, got {k!r}')


def _with_titles(item_ids, items, **values):
    """A DataFrame of `item_ids`, their title and year, and `values`."""
    item_ids = onp.asarray(item_ids, dtype=onp.int64)
    if items is None:
        title = pd.array([pd.NA] * len(item_ids), dtype='string')
        year = pd.array([pd.NA] * len(item_ids), dtype='Int64')
    else:
        found = items.reindex(item_ids)
        title, year = found.title.to_numpy(), found.year.array
    frame = pd.DataFrame({'item_id': item_ids, 'title': title,
                          'year': year, **values})
    frame.index = pd.RangeIndex(1, len(frame) + 1, name='rank')
    return frame


def movie_name(row):
    """"Title (Year)" of a row of `recommend` or `top_rated`; "item N"
    without a title; always one line."""
    title = row['title']
    if pd.isna(title) or not str(title).strip():
        name = f'item {row["item_id"]}'
    else:
        name = ' '.join(str(title).split())  # no line breaks, tabs
    return name if pd.isna(row['year']) else f'{name} ({row["year"]})'


def format_recommendations(user_id, recommended, rated):
    """Return the lines that ``python -m d2lrec recommend`` prints.

    Every line that is not a movie starts with "#".  First a header,
    then each recommended movie on one line, the predicted rating with
    two decimals: ``"  4.83  Star Wars (1977)"``; then, after the header
    "# User N's own top-rated movies ...", the user's own ratings as
    whole numbers: ``"  5     Toy Story (1995)"``.  So
    ``grep -E '^  [0-9]\\.[0-9]{2}  '`` finds the recommendations only.
    """
    lines = [f'# Top {len(recommended)} movies for user {user_id} that '
             f'they have not rated (predicted rating, title):']
    lines += [f'  {row["predicted"]:4.2f}  {movie_name(row)}'
              for _, row in recommended.iterrows()]
    if recommended.empty:
        lines.append(f'# (none: user {user_id} has rated every movie)')
    lines.append(f"# User {user_id}'s own top-rated movies, as a sanity "
                 f'check (their rating, title):')
    lines += [f'  {int(row["rating"]):<4d}  {movie_name(row)}'
              for _, row in rated.iterrows()]
    if rated.empty:
        lines.append(f'# (none: user {user_id} has rated no movie)')
    return lines


# ---------------------------------------------------------- model files

def config_path(path):
    """The config sidecar of the model at `path`: ``path + '.json'``."""
    return os.fspath(path) + '.json'


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


def save_model(net, config, path):
    """Save `net` and its `config` to `path` and ``path + '.json'``.

    See the module's docstring for the layout.  Both files are written
    to temporary files beside `path`, checked (the parameters must load
    into ``build_net(config)``), then moved into place with
    ``os.replace``: on any error nothing is left behind, and a model
    already at `path` is unchanged.  A config that is invalid or does not
    fit `net` raises ValueError; a failed write (a full disk, a missing
    folder) raises `ModelFileError`.  Returns the two paths.
    """
    config = check_config(config)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    temps = []
    try:
        params = _temp_file(folder, path, temps)
        _save_params(net, params)
        _check_fits(config, params)
        sidecar = _temp_file(folder, path, temps)
        _write_sidecar(sidecar, config, params)
        _install([(params, path), (sidecar, config_path(path))], temps)
    except OSError as e:
        raise ModelFileError(_write_problem(e, path)) from e
    finally:
        for temp in temps:
            _remove(temp)
    return path, config_path(path)


def _temp_file(folder, path, temps):
    """Create an empty temporary file beside `path`; note it in `temps`."""
    fd, name = tempfile.mkstemp(dir=folder, suffix='.tmp',
                                prefix=f'.{os.path.basename(path)}.')
    os.close(fd)
    temps.append(name)
    return name


def _save_params(net, filename):
    from mxnet.base import MXNetError
    from mxnet.gluon.parameter import DeferredInitializationError
    try:
        net.save_parameters(filename)
    except DeferredInitializationError as e:
        raise ValueError('the net has not been run yet, so its parameters '
                         'have no shape: train it (or pass one batch '
                         'through it) before saving') from e
    except MXNetError as e:
        raise OSError(f'MXNet could not write {filename}') from e
    _fsync(filename)


def _check_fits(config, params):
    """Raise ValueError unless `params` loads into ``build_net(config)``."""
    import mxnet as mx
    try:
        _load_params(build_net(config), params, config, [mx.cpu()])
    except ValueError as e:
        raise ValueError(f'the net does not fit its config: {e}') from e


def _write_sidecar(filename, config, params):
    meta = {'format': MODEL_FORMAT, 'version': MODEL_VERSION,
            'config': config,
            'params_sha256': file_hash(params, 'sha256')}
    try:
        text = json.dumps(meta, indent=2, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise ValueError(f'the config is not JSON-serializable: {e}') from e
    with open(filename, 'w', encoding='utf-8') as f:
        f.write(text + '\n')
        f.flush()
        os.fsync(f.fileno())


def _install(moves, temps):
    """``os.replace(temp, target)`` for each pair of `moves`, all or none:
    on an error, the targets already replaced get their old files back
    (kept as backups in `temps` until then)."""
    done = []
    try:
        for temp, target in moves:
            backup = None
            if os.path.exists(target):
                backup = _temp_file(os.path.dirname(temp), target, temps)
                _copy(target, backup)
            os.replace(temp, target)
            done.append((target, backup))
    except BaseException:
        for target, backup in reversed(done):
            _restore(target, backup, temps)
        raise
    _fsync_folder(os.path.dirname(moves[0][0]))


def _restore(target, backup, temps):
    """Put `backup` back at `target`, or remove `target` if there was
    none; if that fails, keep the backup (drop it from `temps`)."""
    try:
        if backup is None:
            os.remove(target)
        else:
            os.replace(backup, target)
    except OSError:
        if backup in temps:
            temps.remove(backup)


def _copy(source, destination):
    with open(source, 'rb') as f, open(destination, 'wb') as g:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            g.write(chunk)
        g.flush()
        os.fsync(g.fileno())


def _fsync(filename):
    with open(filename, 'rb') as f:
        os.fsync(f.fileno())


def _fsync_folder(folder):
    """Make the renames in `folder` durable (best effort, POSIX)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(filename):
    try:
        os.remove(filename)
    except FileNotFoundError:
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
    `devices` (default: `d2lrec.devices.try_all_gpus()`).  A missing or
    unreadable file, a bad config, parameters that are not the ones
    saved with the config or that do not fit it raise `ModelFileError`.
    """
    from d2lrec.devices import try_all_gpus
    path = os.fspath(path)
    config = _read_sidecar(path)
    net = build_net(config)
    try:
        _load_params(net, path, config, devices or try_all_gpus())
    except ValueError as e:
        raise _model_error(path, str(e)) from e
    return net, config


def _model_error(path, problem, todo=None):
    todo = todo or (f'Train and save a model there with python -m d2lrec '
                    f'train --save {path}')
    return ModelFileError(f'cannot load the model {path}: {problem}. '
                          f'{todo}.')


def _read_sidecar(path):
    """The checked config of ``path + '.json'``; checks the hash of the
    parameters at `path` too."""
    sidecar = config_path(path)
    for name, what in ((sidecar, 'its config'), (path, 'its parameters')):
        if not os.path.isfile(name):
            raise _model_error(path, f'{what} {name} does not exist')
    try:
        with open(sidecar, encoding='utf-8') as f:
            meta = json.load(f)
        if meta.get('format') != MODEL_FORMAT:
            raise ValueError(f'it is not a {MODEL_FORMAT} file')
        if meta.get('version') != MODEL_VERSION:
            raise ValueError(f'its version {meta.get("version")!r} is not '
                             f'{MODEL_VERSION}')
        config = check_config(meta.get('config'))
        expected = meta['params_sha256']
    except (OSError, ValueError, AttributeError, KeyError) as e:
        raise _model_error(path, f'its config {sidecar} is unreadable '
                                 f'or invalid ({e})') from e
    if file_hash(path, 'sha256') != expected:
        raise _model_error(path, f'the parameters are not the ones saved '
                                 f'with {sidecar} (their sha256 differs)')
    return config


def _load_params(net, path, config, devices):
    """Load `path` into `net`; raise ValueError if it does not fit
    `config`."""
    from mxnet.base import MXNetError
    try:
        net.load_parameters(path, ctx=devices)
    except (AssertionError, MXNetError, ValueError, OSError) as e:
        lines = str(e).strip().splitlines()
        raise ValueError(f'the parameters do not fit the config {config}'
                         f' ({lines[-1] if lines else type(e).__name__})'
                         ) from e

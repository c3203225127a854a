"""Recommendations and model files (d2lrec.recommend; beyond D2L §16.4),
on synthetic data in the real format."""
import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import mxnet as mx
import numpy as onp
import pandas as pd
import pytest
from mxnet import autograd, np

import d2lrec.recommend as R
from d2lrec.data import load_data_ml100k, read_items_ml100k

CPU = [mx.cpu()]


# ---------------------------------------------------------- predictions

def trained_like(model, num_users, num_items, scale=1.0, dropout=0.05):
    """An initialized net of `model` with weights large enough that its
    predictions span (and leave) the rating range."""
    config = R.model_config(model, num_users, num_items, hidden_layers=(4,),
                            num_factors=3, dropout=dropout)
    net = R.build_net(config)
    mx.random.seed(0)
    net.initialize(init=mx.init.Normal(scale), ctx=CPU)
    if model == 'mf':
        bias = net.user_bias.weight
    else:
        width = num_users if model == 'autorec' else num_items
        net(np.zeros((1, width)))  # ends the deferred initialization
        bias = net.decoder.bias
    bias.set_data(np.full(bias.shape, 3.))  # centred on the ratings
    return net, config


def direct_predictions(net, model, data, num_users, num_items):
    """The predictions computed without `predict_ratings`, unclipped."""
    if model == 'mf':
        users, items = onp.meshgrid(onp.arange(num_users),
                                    onp.arange(num_items))
        pred = net(np.array(users.ravel(), dtype='int32'),
                   np.array(items.ravel(), dtype='int32'))
        return pred.asnumpy().reshape(num_items, num_users)
    inter = load_data_ml100k(data, num_users, num_items)[3]
    if model == 'uautorec':
        return net(inter.T).asnumpy().T
    return net(inter).asnumpy()


@pytest.mark.parametrize('model', ['autorec', 'uautorec', 'mf'])
def test_predict_ratings_shape_values_and_clipping(ratings, model):
    data, num_users, num_items = ratings
    net, _ = trained_like(model, num_users, num_items)
    pred = R.predict_ratings(net, model, num_users, num_items, data)
    assert isinstance(pred, onp.ndarray)
    assert pred.shape == (num_items, num_users)
    assert pred.dtype.kind == 'f'
    raw = direct_predictions(net, model, data, num_users, num_items)
    assert raw.min() < 1 or raw.max() > 5  # so clipping is tested
    onp.testing.assert_allclose(pred, onp.clip(raw, 1, 5), rtol=1e-5,
                                atol=1e-5)
    assert len(onp.unique(pred.round(3))) > 10  # not a constant


@pytest.mark.parametrize('model', ['autorec', 'uautorec', 'mf'])
def test_predict_ratings_batches_give_the_same_result(ratings, model,
                                                      monkeypatch):
    data, num_users, num_items = ratings
    net, _ = trained_like(model, num_users, num_items)
    whole = R.predict_ratings(net, model, num_users, num_items, data)
    monkeypatch.setattr(R, 'BATCH_ROWS', 7)
    monkeypatch.setattr(R, 'BATCH_PAIRS', 50)
    onp.testing.assert_allclose(
        R.predict_ratings(net, model, num_users, num_items, data, CPU),
        whole, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('model', ['autorec', 'uautorec'])
def test_predict_ratings_runs_in_inference_mode(ratings, model):
    data, num_users, num_items = ratings
    net, _ = trained_like(model, num_users, num_items, dropout=0.5)
    first = R.predict_ratings(net, model, num_users, num_items, data)
    with autograd.record(), autograd.train_mode():
        second = R.predict_ratings(net, model, num_users, num_items, data)
    onp.testing.assert_array_equal(first, second)  # no dropout, no mask


def test_predict_ratings_uses_the_ratings_as_input(ratings):
    data, num_users, num_items = ratings
    net, _ = trained_like('autorec', num_users, num_items)
    full = R.predict_ratings(net, 'autorec', num_users, num_items, data)
    half = R.predict_ratings(net, 'autorec', num_users, num_items,
                             data.iloc[::2])
    assert not onp.allclose(full, half)


def test_predict_ratings_rejects_wrong_inputs(ratings):
    data, num_users, num_items = ratings
    net, _ = trained_like('autorec', num_users, num_items)
    with pytest.raises(ValueError, match='model must be one of'):
        R.predict_ratings(net, 'svd', num_users, num_items, data)
    with pytest.raises(ValueError, match=f'outside 1..{num_users - 1}'):
        R.predict_ratings(net, 'autorec', num_users - 1, num_items, data)
    with pytest.raises(ValueError, match='net fails on them'):
        R.predict_ratings(net, 'uautorec', num_users, num_items, data)
    wide = R.build_net(R.model_config('autorec', num_users + 1, num_items,
                                      hidden_layers=(4,)))
    wide.initialize(ctx=CPU)
    with pytest.raises(ValueError, match='predicts 31 ratings per row'):
        R.predict_ratings(wide, 'autorec', num_users, num_items, data)
    mf, _ = trained_like('mf', num_users, num_items + 1)
    with pytest.raises(ValueError, match='41 rows in Q'):
        R.predict_ratings(mf, 'mf', num_users, num_items, data)


# ------------------------------------------------------ recommendations

@pytest.fixture
def small():
    """Scores for 6 items x 3 users, the ratings and the items."""
    scores = onp.array([[4.0, 1, 1], [5.0, 1, 1], [4.5, 1, 1],
                        [4.0, 1, 1], [3.9, 1, 1], [4.5, 1, 1]])
    data = pd.DataFrame({'user_id': [1, 1, 2, 1],
                         'item_id': [2, 5, 2, 4],
                         'rating': [3, 5, 5, 5],
                         'timestamp': [10, 20, 30, 30]})
    items = pd.DataFrame({'title': ['A', 'B', 'C', 'D', 'E', 'F'],
                          'year': pd.array([1990, None, 1992, 1993, 1994,
                                            1995], dtype='Int64')},
                         index=pd.Index(range(1, 7), name='item_id'))
    return scores, data, items


def test_recommend_excludes_rated_items_and_sorts(small):
    scores, data, items = small
    top = R.recommend(scores, data, 1, k=3, items=items)
    assert list(top.columns) == ['item_id', 'title', 'year', 'predicted']
    # Item 2 (5.0) and 4 and 5 are rated; 3 and 6 tie at 4.5.
    assert list(top.item_id) == [3, 6, 1]
    assert list(top.title) == ['C', 'F', 'A']
    assert list(top.year) == [1992, 1995, 1990]
    assert list(top.predicted) == [4.5, 4.5, 4.0]
    assert list(top.index) == [1, 2, 3]


def test_recommend_returns_fewer_rows_when_few_are_unseen(small):
    scores, data, items = small
    assert list(R.recommend(scores, data, 1, k=10).item_id) == [3, 6, 1]
    assert len(R.recommend(scores, data, 2, k=10)) == 5
    everything = pd.DataFrame({'user_id': [3] * 6, 'item_id': range(1, 7),
                               'rating': [4] * 6, 'timestamp': [0] * 6})
    assert R.recommend(scores, everything, 3).empty


def test_recommend_without_items_has_no_titles(small):
    scores, data, _ = small
    top = R.recommend(scores, data, 1, k=2)
    assert list(top.item_id) == [3, 6]
    assert top.title.isna().all() and top.year.isna().all()


@pytest.mark.parametrize('user_id', [0, 4, -1])
def test_recommend_unknown_user_says_the_valid_range(small, user_id):
    scores, data, _ = small
    with pytest.raises(ValueError, match=r'unknown user id .*1\.\.3'):
        R.recommend(scores, data, user_id)


@pytest.mark.parametrize('user_id,k', [(1.0, 10), (True, 10), ('1', 10),
                                       (1, 0), (1, 2.5)])
def test_recommend_rejects_non_integers(small, user_id, k):
    scores, data, _ = small
    with pytest.raises(ValueError):
        R.recommend(scores, data, user_id, k)


def test_recommend_accepts_numpy_integers(small):
    scores, data, _ = small
    assert list(R.recommend(scores, data, onp.int64(1), onp.int32(1))
                .item_id) == [3]


def test_top_rated_orders_by_rating_then_most_recent(small):
    _, data, items = small
    top = R.top_rated(data, 1, k=10, items=items)
    assert list(top.columns) == ['item_id', 'title', 'year', 'rating']
    assert list(top.item_id) == [4, 5, 2]  # 5 (t=30), 5 (t=20), 3
    assert list(top.rating) == [5, 5, 3]
    assert list(top.title) == ['D', 'E', 'B']
    assert top.year.isna().tolist() == [False, False, True]
    assert list(R.top_rated(data, 1, k=1).item_id) == [4]
    with pytest.raises(ValueError, match=r'1\.\.2'):
        R.top_rated(data, 3)


def test_recommend_end_to_end_on_synthetic_data(synthetic_titles,
                                                 ratings):
    data, num_users, num_items = ratings
    net, _ = trained_like('autorec', num_users, num_items)
    scores = R.predict_ratings(net, 'autorec', num_users, num_items, data)
    items = read_items_ml100k(synthetic_titles)
    for user in range(1, num_users + 1):
        top = R.recommend(scores, data, user, k=5, items=items)
        seen = set(data.item_id[data.user_id == user])
        assert len(top) == 5 and not seen & set(top.item_id)
        assert top.predicted.is_monotonic_decreasing
        unseen = [i for i in range(1, num_items + 1) if i not in seen]
        best = max(scores[i - 1, user - 1] for i in unseen)
        assert top.predicted.iloc[0] == pytest.approx(best)
    assert top.title.notna().all()


def test_format_recommendations_one_movie_a_line(small):
    scores, data, items = small
    items.loc[3, 'title'] = 'Broken\nTitle'
    recommended = R.recommend(scores, data, 1, k=3, items=items)
    rated = R.top_rated(data, 1, k=2, items=items)
    lines = R.format_recommendations(1, recommended, rated)
    assert all('\n' not in line for line in lines)
    assert lines == [
        '# Top 3 movies for user 1 that they have not rated (predicted '
        'rating, title):',
        '  4.50  Broken Title (1992)',
        '  4.50  F (1995)',
        '  4.00  A (1990)',
        "# User 1's own top-rated movies, as a sanity check (their "
        'rating, title):',
        '  5     D (1993)',
        '  5     E (1994)']
    movies = [line for line in lines
              if re.match(r'^  [0-9]\.[0-9]{2}  ', line)]
    assert movies == lines[1:4]


def test_format_recommendations_without_titles_or_rows(small):
    scores, data, _ = small
    everything = pd.DataFrame({'user_id': [3] * 6, 'item_id': range(1, 7),
                               'rating': [4] * 6, 'timestamp': [0] * 6})
    lines = R.format_recommendations(
        3, R.recommend(scores, everything, 3), R.top_rated(everything, 3,
                                                           k=1))
    assert lines[1].startswith('# (none')
    assert lines[-1] == '  4     item 1'
    assert all(line.startswith(('#', '  4 ')) for line in lines)


# ---------------------------------------------------------- model files

@pytest.fixture
def folder(tmp_path):
    """An empty folder for model files (`tmp_path` holds the data)."""
    (tmp_path / 'models').mkdir()
    return tmp_path / 'models'


def listing(folder):
    return sorted(os.listdir(folder))


@pytest.mark.parametrize('model', ['autorec', 'uautorec', 'mf'])
def test_save_load_round_trip(ratings, folder, model):
    data, num_users, num_items = ratings
    net, config = trained_like(model, num_users, num_items)
    path = folder / 'model.params'
    assert R.save_model(net, dict(config, seed=3), path) == (
        str(path), str(path) + '.json')
    assert listing(folder) == ['model.params', 'model.params.json']
    meta = json.loads((folder / 'model.params.json').read_text())
    assert meta['format'] == 'd2lrec-model' and meta['version'] == 1
    loaded, loaded_config = R.load_model(path, devices=CPU)
    assert loaded_config == dict(config, seed=3)
    assert loaded_config['hidden_layers'] == (4,)
    onp.testing.assert_array_equal(
        R.predict_ratings(loaded, model, num_users, num_items, data),
        R.predict_ratings(net, model, num_users, num_items, data))


def test_save_overwrites_an_existing_model(ratings, folder):
    data, num_users, num_items = ratings
    path = folder / 'model.params'
    old, config = trained_like('mf', num_users, num_items, scale=0.5)
    R.save_model(old, config, path)
    new, config = trained_like('autorec', num_users, num_items)
    R.save_model(new, config, str(path))
    loaded, loaded_config = R.load_model(str(path), devices=CPU)
    assert loaded_config['model'] == 'autorec'
    assert listing(folder) == ['model.params', 'model.params.json']


@pytest.fixture
def saved(ratings, folder):
    """An MF model saved at ``folder/model.params``; returns
    ``(path, {name: bytes} of the folder)``."""
    _, num_users, num_items = ratings
    net, config = trained_like('mf', num_users, num_items, scale=0.5)
    path = folder / 'model.params'
    R.save_model(net, config, path)
    return path, {name: (folder / name).read_bytes()
                  for name in listing(folder)}


def contents(folder):
    return {name: (folder / name).read_bytes() for name in listing(folder)}


def failing_replace(monkeypatch, fail_at, error=None):
    """Make the `fail_at`-th call (1-based) of ``os.replace`` raise."""
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append((src, dst))
        if len(calls) == fail_at:
            raise error or OSError(errno.ENOSPC, 'No space left on device',
                                   str(dst))
        return real(src, dst)
    monkeypatch.setattr(os, 'replace', replace)
    return calls


@pytest.mark.parametrize('fail_at', [1, 2])
def test_failed_save_leaves_no_file(ratings, folder, monkeypatch,
                                    fail_at):
    _, num_users, num_items = ratings
    net, config = trained_like('autorec', num_users, num_items)
    calls = failing_replace(monkeypatch, fail_at)
    with pytest.raises(R.ModelFileError) as info:
        R.save_model(net, config, folder / 'model.params')
    assert len(calls) >= fail_at
    assert listing(folder) == []
    message = str(info.value)
    assert 'No space left' in message and 'unchanged' in message
    assert str(folder / 'model.params') in message


@pytest.mark.parametrize('fail_at', [1, 2])
@pytest.mark.parametrize('error', [None, KeyboardInterrupt()])
def test_failed_save_keeps_the_existing_model(ratings, saved, monkeypatch,
                                              fail_at, error):
    _, num_users, num_items = ratings
    path, before = saved
    net, config = trained_like('uautorec', num_users, num_items)
    failing_replace(monkeypatch, fail_at, error)
    with pytest.raises(KeyboardInterrupt if error else R.ModelFileError):
        R.save_model(net, config, path)
    assert contents(path.parent) == before
    monkeypatch.undo()
    assert R.load_model(path, devices=CPU)[1]['model'] == 'mf'


def test_failed_parameter_write_leaves_no_file(ratings, saved,
                                               monkeypatch):
    _, num_users, num_items = ratings
    path, before = saved
    net, config = trained_like('autorec', num_users, num_items)

    def disk_full(filename):  # half a file, then the disk is full
        with open(filename, 'wb') as f:
            f.write(b'\x12\x01' * 10)
        raise OSError(errno.ENOSPC, 'No space left on device', filename)
    monkeypatch.setattr(net, 'save_parameters', disk_full)
    with pytest.raises(R.ModelFileError, match='No space left'):
        R.save_model(net, config, path)
    assert contents(path.parent) == before
    with pytest.raises(R.ModelFileError, match='No space left'):
        R.save_model(net, config, path.parent / 'other.params')
    assert contents(path.parent) == before


def test_save_into_a_missing_folder(ratings, folder):
    _, num_users, num_items = ratings
    net, config = trained_like('mf', num_users, num_items)
    with pytest.raises(R.ModelFileError, match='folder exists'):
        R.save_model(net, config, folder / 'nowhere' / 'model.params')
    assert listing(folder) == []


def test_save_refuses_a_net_that_does_not_fit(ratings, folder):
    _, num_users, num_items = ratings
    net, config = trained_like('autorec', num_users, num_items)
    path = folder / 'model.params'
    for wrong in (dict(config, model='mf'), dict(config, num_users=3),
                  dict(config, hidden_layers=(5,)),
                  dict(config, model='uautorec')):
        with pytest.raises(ValueError, match='does not fit'):
            R.save_model(net, wrong, path)
    unrun = R.build_net(config)
    unrun.initialize(ctx=CPU)
    with pytest.raises(ValueError, match='not been run'):
        R.save_model(unrun, config, path)
    assert listing(folder) == []


@pytest.mark.parametrize('change,problem', [
    (lambda c: c.pop('num_items'), 'lacks num_items'),
    (lambda c: c.update(model='svd'), 'model must be'),
    (lambda c: c.update(hidden_layers=()), 'empty'),
    (lambda c: c.update(hidden_layers=[4, 0]), 'positive'),
    (lambda c: c.update(dropout=1.0), 'dropout'),
    (lambda c: c.update(encoder_act='gelu'), 'encoder_act'),
    (lambda c: c.update(note=object()), 'JSON'),
])
def test_save_refuses_a_bad_config(ratings, folder, change, problem):
    _, num_users, num_items = ratings
    net, config = trained_like('autorec', num_users, num_items)
    config = dict(config)
    change(config)
    with pytest.raises(ValueError, match=problem):
        R.save_model(net, config, folder / 'model.params')
    assert listing(folder) == []


def edit_config(path, **changes):
    sidecar = R.config_path(path)
    with open(sidecar) as f:
        meta = json.load(f)
    meta['config'].update(changes)
    with open(sidecar, 'w') as f:
        json.dump(meta, f)


@pytest.mark.parametrize('damage,problem', [
    (lambda p: os.remove(p), 'does not exist'),
    (lambda p: os.remove(R.config_path(p)), 'does not exist'),
    (lambda p: Path(R.config_path(p)).write_text('{"format": "d2l'),
     'unreadable or invalid'),
    (lambda p: Path(R.config_path(p)).write_text('[1, 2]'),
     'unreadable or invalid'),
    (lambda p: Path(R.config_path(p)).write_text('{"format": "x"}'),
     'not a d2lrec-model'),
    (lambda p: Path(p).write_bytes(Path(p).read_bytes() + b'\0'),
     'sha256 differs'),
    (lambda p: edit_config(p, num_factors=4), 'do not fit'),
    (lambda p: edit_config(p, model='autorec'), 'do not fit'),
    (lambda p: edit_config(p, num_users='many'), 'num_users'),
])
def test_load_model_errors_say_what_and_what_to_do(saved, damage,
                                                   problem):
    path, _ = saved
    damage(str(path))
    with pytest.raises(R.ModelFileError, match=problem) as info:
        R.load_model(path, devices=CPU)
    message = str(info.value)
    assert str(path) in message
    assert f'python -m d2lrec train --save {path}' in message


def test_model_file_error_is_a_runtime_error():
    assert issubclass(R.ModelFileError, RuntimeError)


def test_import_has_no_side_effects():
    code = ('import sys, d2lrec.recommend; '
            'assert "mxnet" not in sys.modules, "mxnet imported"')
    subprocess.run([sys.executable, '-c', code], check=True)

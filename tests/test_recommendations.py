"""Recommendations (d2lrec.lab.recommendations; beyond D2L §16.4), on
synthetic data in the real format."""
import re
import subprocess
import sys

import mxnet as mx
import numpy as onp
import pandas as pd
import pytest
from mxnet import autograd, np

import d2lrec.lab.evaluation as evaluation
import d2lrec.lab.models as models
import d2lrec.lab.recommendations as R
from d2lrec.data import load_data_ml100k
from d2lrec.lab.config import Config
from d2lrec.lab.models import build_net
from support import trained_like

CPU = [mx.cpu()]


# ---------------------------------------------------------- predictions

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
    monkeypatch.setattr(evaluation, 'EVAL_BATCH_SIZE', 7)
    monkeypatch.setattr(models, 'BATCH_PAIRS', 50)
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
    wide = build_net(Config(hidden_layers=(4,)), num_users + 1, num_items)
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
    items = R.read_items_ml100k(synthetic_titles)
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


def test_import_has_no_side_effects():
    code = ('import sys, d2lrec.lab.recommendations; '
            'assert "mxnet" not in sys.modules, "mxnet imported"')
    subprocess.run([sys.executable, '-c', code], check=True)

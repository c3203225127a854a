"""Matrix factorization of D2L §16.3 (d2lrec.mf): MF and its RMSE
against NumPy, and its data loaders."""
import mxnet as mx
import numpy as onp
import pytest
from mxnet import np

from d2lrec.mf import ArrayLoader
from d2lrec.lab.evaluation import rmse_evaluator
from d2lrec.mf import MF, split_and_load_ml100k


def test_mf_matches_numpy_and_rmse():
    net = MF(4, num_users=5, num_items=7)
    net.initialize(init=mx.init.Normal(0.5))
    P, Q = net.P.weight.data().asnumpy(), net.Q.weight.data().asnumpy()
    bu = net.user_bias.weight.data().asnumpy()[:, 0]
    bi = net.item_bias.weight.data().asnumpy()[:, 0]
    users, items = onp.array([0, 4, 2, 2]), onp.array([6, 0, 3, 3])
    expected = (P[users] * Q[items]).sum(1) + bu[users] + bi[items]
    pred = net(np.array(users), np.array(items))
    assert pred.shape == (4,)
    onp.testing.assert_allclose(pred.asnumpy(), expected, rtol=1e-5)
    scores = onp.array([5, 1, 3, 4], dtype='float32')
    test_iter = ArrayLoader((users, items, scores), batch_size=3)
    rmse = rmse_evaluator(net, test_iter, [mx.cpu()])
    assert rmse == pytest.approx(
        onp.sqrt(onp.mean((expected - scores) ** 2)), rel=1e-5)


def test_split_and_load_gives_triples(synthetic_ml100k):
    root, df = synthetic_ml100k
    num_users, num_items, train_iter, test_iter = split_and_load_ml100k(
        'random', test_ratio=0.2, batch_size=16, data_dir=root)
    assert (num_users, num_items) == (df.user_id.nunique(),
                                      df.item_id.nunique())
    test = [onp.concatenate([b[k].asnumpy() for b in test_iter])
            for k in range(3)]
    train = [onp.concatenate([b[k].asnumpy() for b in train_iter])
             for k in range(3)]
    assert len(test[0]) + len(train[0]) + len(df) % 16 >= len(df) - 16
    assert test[0].min() >= 0 and test[1].max() < num_items
    assert set(onp.unique(test[2])) <= {1, 2, 3, 4, 5}

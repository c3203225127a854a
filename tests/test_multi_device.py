"""Integration tests of the multi-device path, end to end (d2lrec.train,
the evaluators and d2lrec.lab.cli): training and evaluating on two devices,
as the book does (D2L §16.4, with §13.6's ``split_and_load``): every
batch is split over the devices, their gradients are summed, and the
evaluators join their outputs.

MXNet treats ``cpu(0)`` and ``cpu(1)`` as two devices, so a CPU machine
runs the path that two GPUs would.  The RMSE comparisons train on the real
MovieLens 100K (skipped without it, except in CI); the rest is synthetic.
The mean loss per example on two devices: tests/test_train.py.
"""
import json

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon
from mxnet.gluon.data import DataLoader

import d2lrec.lab.devices as DEVICES
from d2lrec.autorec import AutoRec, evaluator
from d2lrec.lab import cli
from d2lrec.lab.evaluation import (autorec_evaluator, mf_evaluator,
                                   rmse_evaluator)
from d2lrec.lab.experiment import train_and_evaluate
from d2lrec.lab.loss import L2Loss
from d2lrec.mf import MF, ArrayLoader
from d2lrec.train import train_recsys_rating
from support import ratings_matrix

ONE, TWO = [mx.cpu(0)], [mx.cpu(0), mx.cpu(1)]
NUM_ROWS, NUM_USERS, NUM_ITEMS = 11, 6, 7  # batches 4, 4, 3 or 5, 5, 1


@pytest.mark.parametrize('config, worst', [
    ({}, 0.92),  # the chapter's AutoRec (item-based), 25 epochs
    ({'model': 'uautorec', 'num_epochs': 15}, 1.06),
    ({'hidden_layers': (500, 250, 500), 'num_epochs': 10}, 1.03),
    ({'model': 'mf', 'num_epochs': 5}, 0.97),
], ids=['autorec', 'uautorec', 'deep', 'mf'])
def test_two_devices_reach_the_rmse_of_one(ml100k, config, worst):
    one, two = (train_and_evaluate(data=ml100k, devices=devices, plot=False,
                                   verbose=False, **config)
                for devices in (ONE, TWO))
    print(f'test RMSE on one device {one["test_rmse"]:.4f}, on two '
          f'{two["test_rmse"]:.4f}')
    assert (one['devices'], two['devices']) == (['cpu(0)'],
                                                ['cpu(0)', 'cpu(1)'])
    assert one['test_rmse'] < worst  # trained: 0.01 is a small gap
    assert abs(two['test_rmse'] - one['test_rmse']) < 0.01


class Recorder:
    """Calls `net`, keeping each output (as NumPy) and its device."""

    def __init__(self, net):
        self.net, self.outputs, self.devices = net, [], set()

    def __call__(self, *args):
        out = self.net(*args)
        self.outputs.append(out.asnumpy())
        self.devices.add(out.ctx)
        return out


def autorec_case(options, batch_size):
    """AutoRec, its evaluator with `options` (of `autorec_evaluator`) and
    ``evaluate(net, devices)`` on `NUM_ROWS` rows in `batch_size`s."""
    rng = np.random.RandomState(0)
    train = ratings_matrix(rng, (NUM_ROWS, NUM_USERS))
    train[2], train[:, 4] = 0, 0  # an item and a user without ratings
    test = mx.np.array(ratings_matrix(rng, (NUM_ROWS, NUM_USERS)))
    rows = DataLoader(train, batch_size=batch_size)
    chosen = autorec_evaluator(train, **options)

    def evaluate(net, devices):
        rmse = chosen(net, rows, test, devices)
        if not options:  # the chapter's RMSE, bit for bit
            assert rmse == evaluator(net.net, rows, test, devices)
        return rmse
    return AutoRec(5, NUM_USERS), evaluate


def mf_case(options, batch_size):
    """The same for MF, `mf_evaluator` and `NUM_ROWS` test ratings."""
    rng = np.random.RandomState(0)
    users = rng.randint(0, NUM_USERS, NUM_ROWS)
    items = rng.randint(0, NUM_ITEMS, NUM_ROWS)
    test_iter = ArrayLoader((users.astype('int32'), items.astype('int32'),
                             rng.randint(1, 6, NUM_ROWS).astype('float32')),
                            batch_size)
    chosen = mf_evaluator(users[:6], items[:6], **options)
    assert (chosen is rmse_evaluator) == (not options)
    return MF(3, NUM_USERS, NUM_ITEMS), lambda net, devices: chosen(
        net, test_iter, devices)


CHAPTER, PROTOCOL = {}, {'clip': True, 'unseen_rating': 3}


@pytest.mark.parametrize('case, options, batch_size', [
    # The chapter's evaluator, kept verbatim, fails on a last batch of one
    # row: MXNet 1.9.1's Dense fails on the second device's empty part.
    (autorec_case, CHAPTER, 4),
    (autorec_case, PROTOCOL, 4), (autorec_case, PROTOCOL, 5),
    (mf_case, CHAPTER, 4), (mf_case, CHAPTER, 5),
    (mf_case, PROTOCOL, 4), (mf_case, PROTOCOL, 5),
], ids=['autorec-chapter-last3', 'autorec-protocol-last3',
        'autorec-protocol-last1', 'mf-chapter-last3', 'mf-chapter-last1',
        'mf-protocol-last3', 'mf-protocol-last1'])
def test_evaluators_agree_on_one_and_two_devices(case, options,
                                                 batch_size):
    """Same parameters, same predictions in the same order, and the same
    RMSE, the last uneven batch included (over two devices, a last batch
    of one row leaves the second device nothing)."""
    net, evaluate = case(options, batch_size)
    mx.random.seed(0)
    net.initialize(ctx=ONE, init=mx.init.Normal(1))
    runs = []
    for devices in (ONE, TWO):
        net.collect_params().reset_ctx(devices)  # copies the parameters
        recorder = Recorder(net)
        rmse = evaluate(recorder, devices)
        runs.append((rmse, np.concatenate(recorder.outputs),
                     recorder.devices))
    (rmse_one, pred_one, _), (rmse_two, pred_two, used) = runs
    assert used == set(TWO)
    assert len(pred_two) == NUM_ROWS
    np.testing.assert_allclose(pred_two, pred_one, rtol=1e-6, atol=1e-6)
    assert rmse_two == pytest.approx(rmse_one, rel=1e-6)


@pytest.mark.parametrize('num_rows, batch_size, bad', [
    (3, 3, 3), (1, 1, 1), (9, 4, 1)])  # the last: 4, 4, then 1
def test_a_batch_that_does_not_split_evenly_is_refused(num_rows,
                                                       batch_size, bad):
    X = ratings_matrix(np.random.RandomState(0), (num_rows, NUM_USERS))
    net = AutoRec(4, NUM_USERS)
    net.initialize(ctx=TWO)
    trainer = gluon.Trainer(net.collect_params(), 'adam')
    loader = DataLoader(X, batch_size=batch_size)
    with pytest.raises(ValueError) as info:
        train_recsys_rating(net, loader, loader, L2Loss(), trainer, 1, TWO,
                            evaluator, plot=False, inter_mat=mx.np.array(X))
    assert str(info.value).startswith(
        f'a training batch of size {bad} cannot be split evenly over the '
        f'2 devices [cpu(0), cpu(1)]: make the batch size a multiple of '
        f'2, ')


def test_cli_on_two_devices(synthetic_ml100k, monkeypatch, capsys):
    """A batch size that splits trains; one that does not is a usage
    error that names the batch size and the devices."""
    monkeypatch.setattr(DEVICES, 'choose_devices', lambda kind: TWO)
    argv = ['train', '--epochs', '1', '--hidden', '4', '--data-dir',
            str(synthetic_ml100k[0])]
    assert cli.main([*argv, '--batch-size', '4', '--json']) == 0
    out = capsys.readouterr().out
    assert json.loads(out.splitlines()[-1])['devices'] == ['cpu(0)',
                                                           'cpu(1)']
    with pytest.raises(SystemExit) as info:
        cli.main([*argv, '--batch-size', '3'])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('usage: python -m d2lrec')
    assert ('error: a training batch of size 3 cannot be split evenly '
            'over the 2 devices [cpu(0), cpu(1)]') in err
    assert 'Traceback' not in err

"""One experiment (d2lrec.lab.experiment.train_and_evaluate): every model
on the same split, user-based AutoRec's rows and unknown models."""
import json
import pickle

import mxnet as mx
import numpy as onp
import pytest

from d2lrec.lab.experiment import Run, mean_of_folds, train_and_evaluate
from d2lrec.lab.models import DeepAutoRec


@pytest.mark.parametrize('model', ['autorec', 'uautorec', 'mf'])
def test_every_model_trains_on_the_same_split(synthetic_ml100k, model):
    root, df = synthetic_ml100k
    kwargs = dict(model=model, hidden_layers=(8, 4, 8), num_factors=3,
                  num_epochs=2, batch_size=8, data_dir=root, plot=False)
    result = train_and_evaluate(**kwargs)
    assert result['model'] == model and result['epochs'] == 2
    assert onp.isfinite(result['test_rmse'])
    assert train_and_evaluate(**kwargs)['test_rmse'] == result['test_rmse']


def test_the_seed_comes_after_the_books_split(synthetic_ml100k,
                                             monkeypatch):
    """The book's split reseeds MXNet with 0; the config's seed must
    then seed the initialization and dropout."""
    seeds, seed = [], mx.random.seed
    monkeypatch.setattr(mx.random, 'seed',
                        lambda s, *args: seeds.append(s) or seed(s, *args))
    train_and_evaluate(split_mode='book', seed=5, hidden_layers=(8,),
                       num_epochs=1, batch_size=8,
                       data_dir=synthetic_ml100k[0], plot=False)
    assert seeds == [0, 5]


def test_user_based_autorec_reconstructs_users(synthetic_ml100k, monkeypatch):
    root, df = synthetic_ml100k
    shapes = []
    original = DeepAutoRec.forward

    def recording_forward(self, input):
        shapes.append(input.shape)
        return original(self, input)

    monkeypatch.setattr(DeepAutoRec, 'forward', recording_forward)
    train_and_evaluate(model='uautorec', hidden_layers=(4,), num_epochs=1,
                       batch_size=8, data_dir=root, plot=False)
    num_users, num_items = df.user_id.nunique(), df.item_id.nunique()
    assert shapes[0] == (8, num_items)  # a batch of users' rows
    assert shapes[-1] == (num_users, num_items)  # evaluation: all users


def test_unknown_model_is_refused(synthetic_ml100k):
    with pytest.raises(ValueError, match='model must be one of'):
        train_and_evaluate(model='svd', data_dir=synthetic_ml100k[0])


def test_a_run_is_a_dict_and_carries_its_net_when_asked(synthetic_ml100k):
    kwargs = dict(hidden_layers=(8,), num_epochs=1, batch_size=8,
                  data_dir=synthetic_ml100k[0], plot=False, verbose=False)
    run = train_and_evaluate(**kwargs)
    assert run.net is None and json.loads(json.dumps(run)) == run
    assert pickle.loads(pickle.dumps(run)) == run  # as workers return it
    run = train_and_evaluate(**kwargs, return_net=True)
    assert isinstance(run.net, DeepAutoRec)
    assert run.net.decoder.weight.shape[0] == run.num_users


def test_the_mean_of_folds_is_one_run():
    runs = [Run(test_rmse=r, train_loss=2 * r, model='autorec', split=s,
                seed=0, epochs=3, seconds=1.5, devices=['cpu(0)'])
            for r, s in ((0.9, 'u1'), (1.0, 'u2'))]
    runs[-1].net = 'net of u2'
    run = mean_of_folds(runs, ('u1', 'u2'))
    assert run == {'test_rmse': 0.95, 'train_loss': 1.9, 'model': 'autorec',
                   'split': 'folds', 'seed': 0, 'epochs': 3, 'seconds': 3.0,
                   'devices': ['cpu(0)'], 'folds': {'u1': 0.9, 'u2': 1.0}}
    assert run.net == 'net of u2'

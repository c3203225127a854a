"""The model kinds (d2lrec.models): each kind's net, the rows it reads,
its loaders and evaluator, on synthetic ratings."""
import mxnet as mx
import numpy as onp
import pytest

from d2lrec.autorec import DeepAutoRec
from d2lrec.config import MODELS, Config
from d2lrec.mf import MF
from d2lrec.models import KINDS, build_net
from support import NUM_ITEMS, NUM_USERS, make_ratings


def test_every_model_of_config_has_a_kind():
    assert set(KINDS) == set(MODELS)


@pytest.mark.parametrize('model, kind, outputs', [
    ('autorec', DeepAutoRec, NUM_USERS), ('uautorec', DeepAutoRec, NUM_ITEMS),
    ('mf', MF, None)])
def test_build_net_makes_the_kinds_net(model, kind, outputs):
    net = build_net(Config(model=model, hidden_layers=(5,)), NUM_USERS,
                    NUM_ITEMS)
    assert isinstance(net, kind)
    if outputs:
        net.initialize()
        width = NUM_ITEMS if model == 'uautorec' else NUM_USERS
        assert net(mx.np.ones((2, width))).shape == (2, outputs)


@pytest.mark.parametrize('model', ['autorec', 'uautorec'])
def test_autorec_rows_are_items_or_users(model):
    data = make_ratings()
    rows = KINDS[model].rows(data, NUM_USERS, NUM_ITEMS)
    first = data.iloc[0]
    item, user = first.item_id - 1, first.user_id - 1
    if model == 'autorec':
        assert rows.shape == (NUM_ITEMS, NUM_USERS)
        assert rows[item, user] == first.rating
    else:
        assert rows.shape == (NUM_USERS, NUM_ITEMS)
        assert rows[user, item] == first.rating
    assert rows.flags.c_contiguous


@pytest.mark.parametrize('model', MODELS)
def test_setup_gives_loaders_and_an_evaluator(model):
    data = make_ratings()
    train, test = data.iloc[:300], data.iloc[300:]
    config = Config(model=model, hidden_layers=(5,))
    train_iter, test_iter, evaluate, kwargs = KINDS[model].setup(
        config, 8, train, test, NUM_USERS, NUM_ITEMS)
    net = build_net(config, NUM_USERS, NUM_ITEMS)
    net.initialize(init=mx.init.Normal(0.01))
    args = (kwargs['inter_mat'],) if kwargs else ()
    rmse = evaluate(net, test_iter, *args, [mx.cpu()])
    # an untrained net predicts about 0, so the RMSE is about the ratings'
    ratings = test.rating.to_numpy()
    assert rmse == pytest.approx(onp.sqrt((ratings ** 2).mean()), rel=0.05)
    assert len(next(iter(train_iter))[0]) == 8


def test_a_batch_larger_than_the_matrix_is_refused():
    data = make_ratings()
    with pytest.raises(ValueError, match='batch size 1000 is larger than '
                       f'the {NUM_ITEMS} rows of the matrix'):
        KINDS['autorec'].setup(Config(), 1000, data, data, NUM_USERS,
                               NUM_ITEMS)

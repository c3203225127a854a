"""Blends (d2lrec.lab.blend): the least-squares weights against NumPy's
polynomial fit, the cross-fitted RMSE against a fold-by-fold fit of the
matrices, the blend's clipping and unseen rating, a member's nets,
and a small blend of the three model kinds on synthetic data, checked
against its members' own runs; the settings of a blend (config.Preset)."""
import dataclasses

import mxnet as mx
import numpy as onp
import pytest

from d2lrec.lab import blend
from d2lrec.lab.blend import (combine, cross_fitted_rmse, fit_weights,
                              init_seeds, member_predictions,
                              rating_matrices, train_blend)
from d2lrec.lab.config import BLEND, PRESETS, Config, Preset
from d2lrec.data import read_data_ml100k
from d2lrec.lab.evaluation import observed_rmse
from d2lrec.lab.experiment import split, train_and_evaluate
from d2lrec.lab.models import predict

SMALL = Config(hidden_layers=(8,), num_epochs=2, batch_size=8, clip=True,
               unseen_rating=3)
MEMBERS = (('I-AutoRec', SMALL),
           ('U-AutoRec', dataclasses.replace(SMALL, model='uautorec')),
           ('MF', dataclasses.replace(SMALL, model='mf', num_factors=4)))


def test_weights_are_the_least_squares_fit_of_the_observed_ratings():
    rng = onp.random.RandomState(0)
    pred = rng.uniform(1, 5, (6, 7))
    ratings = onp.where(rng.uniform(size=(6, 7)) < 0.6,
                        rng.randint(1, 6, (6, 7)), 0).astype(float)
    observed = ratings > 0
    slope, constant = onp.polyfit(pred[observed], ratings[observed], 1)
    assert fit_weights([pred], ratings) == pytest.approx([slope, constant])


def test_unobserved_entries_do_not_move_the_weights():
    rng = onp.random.RandomState(1)
    a, b = rng.uniform(1, 5, (2, 5, 4))
    ratings = 0.25 * a + 0.5 * b + 0.75
    ratings[::2, 1::2] = 0  # unobserved, whatever a and b say there
    a[::2, 1::2] = 100
    assert fit_weights([a, b], ratings) == pytest.approx([0.25, 0.5, 0.75])


def test_the_cross_fitted_rmse_scores_each_fold_with_the_others_weights():
    rng = onp.random.RandomState(2)
    truth = rng.uniform(1, 5, (30, 20))
    ratings = onp.where(rng.uniform(size=truth.shape) < 0.5,
                        onp.round(truth), 0)
    train = onp.ones(truth.shape)
    train[:, 0] = 0  # item 0 unseen: rated 3
    preds = [truth + rng.normal(0, s, truth.shape) for s in (0.5, 1)]
    observed = onp.flatnonzero(ratings)
    fold_of = onp.random.RandomState(0).permutation(len(observed)) % 5
    blended = onp.zeros(truth.shape)
    for fold in range(5):
        held_out = observed[fold_of == fold]
        others = ratings.copy()
        others.flat[held_out] = 0
        blended.flat[held_out] = combine(
            preds, fit_weights(preds, others), train).flat[held_out]
    assert cross_fitted_rmse(preds, ratings, train) == pytest.approx(
        observed_rmse(ratings, blended))


def test_a_useless_member_lowers_only_the_in_sample_rmse():
    rng = onp.random.RandomState(3)
    truth = rng.uniform(1, 5, (40, 30))
    ratings = onp.where(rng.uniform(size=truth.shape) < 0.3, truth, 0)
    train = onp.ones(truth.shape)
    good = truth + rng.normal(0, 0.5, truth.shape)
    noise = rng.uniform(1, 5, truth.shape)

    def in_sample(preds):
        return observed_rmse(ratings, combine(
            preds, fit_weights(preds, ratings), train))
    assert in_sample([good, noise]) < in_sample([good])
    assert (cross_fitted_rmse([good, noise], ratings, train)
            > cross_fitted_rmse([good], ratings, train))


def test_the_nets_of_runs_of_different_seeds_are_disjoint():
    assert list(init_seeds(5, 1)) == [5]  # one net: the run's seed
    seeds = [set(init_seeds(seed, 2)) for seed in range(3)]
    assert seeds == [{0, 1}, {2, 3}, {4, 5}]


def test_the_blend_is_clipped_and_rates_unseen_users_and_items_3():
    preds = [onp.array([[1., 2.], [3., 4.]]), onp.array([[5., 5.], [5., 5.]])]
    weights = [2., -1., 0.5]  # 2 * a - b + 0.5
    train = onp.array([[4., 0.], [0., 0.]])  # only item 0 and user 0 seen
    assert combine(preds, weights, train).tolist() == [
        [1., 3.], [3., 3.]]
    train[1, 1] = 5.  # every item and user seen
    assert combine(preds, weights, train).tolist() == [[1., 1.], [1.5, 3.5]]


def test_a_member_averages_nets_seeded_by_init_seeds(synthetic_ml100k):
    data = read_data_ml100k(synthetic_ml100k[0])
    _, num_users, num_items = data
    config = dataclasses.replace(SMALL, clip=False, unseen_rating=None,
                                 seed=3)
    parts = split(config, data)
    train_data, _ = parts
    preds = [predict(train_and_evaluate(config, data=data, init_seed=seed,
                                        return_net=True, plot=False,
                                        verbose=False).net,
                     'autorec', num_users, num_items, train_data, mx.cpu())
             for seed in (6, 7)]  # seed 3, two nets
    assert not onp.allclose(*preds)
    assert member_predictions(config, data, parts, nets=2)[0] == (
        pytest.approx((preds[0] + preds[1]) / 2))


def test_init_seed_seeds_the_net_and_not_the_split(synthetic_folds):
    def losses(config, **settings):
        run = train_and_evaluate(config, data_dir=synthetic_folds[0],
                                 plot=False, verbose=False, **settings)
        return [(e['train_loss'], e['test_rmse']) for e in run['history']]
    fold = dataclasses.replace(SMALL, split_mode='u1')  # one split
    assert losses(fold, init_seed=1) == losses(fold, seed=1)
    assert losses(fold, init_seed=1) != losses(fold)
    assert losses(SMALL, seed=2, init_seed=2) == losses(SMALL, seed=2)


def test_a_blend_of_the_three_kinds(synthetic_ml100k):
    data = read_data_ml100k(synthetic_ml100k[0])
    blend = Preset(MEMBERS)
    run = train_blend(blend, seed=1, data=data)
    assert run['model'] == 'blend' and run['seed'] == 1
    assert list(run['weights']) == ['I-AutoRec', 'U-AutoRec', 'MF',
                                    'constant']
    for name, config in MEMBERS:  # each member is its own plain run
        plain = train_and_evaluate(config, data=data, seed=1, plot=False,
                                   verbose=False)
        assert run['members'][name]['test_rmse'] == pytest.approx(
            plain['test_rmse'])
    # The weights come from the validation split, the RMSE from the test;
    # the validation RMSE is cross-fitted.
    configs = [dataclasses.replace(config, seed=1) for _, config in MEMBERS]
    for validation in (True, False):
        parts = split(configs[0], data, validation)
        train, ratings = rating_matrices(parts, *data[1:])
        preds = [member_predictions(config, data, parts, validation)[0]
                 for config in configs]
        if validation:
            weights = fit_weights(preds, ratings)
            assert list(run['weights'].values()) == pytest.approx(weights)
            assert run['validation_rmse'] == pytest.approx(
                cross_fitted_rmse(preds, ratings, train))
        else:
            assert run['test_rmse'] == pytest.approx(observed_rmse(
                ratings, combine(preds, weights, train)))


def test_blend_settings_are_checked():
    with pytest.raises(ValueError, match='members must be'):
        Preset((SMALL,))
    with pytest.raises(ValueError, match='members must be'):
        Preset(())
    with pytest.raises(ValueError, match='member names must differ'):
        Preset((('A', SMALL), ('A', SMALL)))
    with pytest.raises(ValueError, match='nets must be > 0'):
        Preset((('A', SMALL),), nets=0)
    assert Preset([('A', SMALL)]).members == (('A', SMALL),)
    assert PRESETS['blend'] is BLEND


def test_nets_kept_in_preds_of_are_not_trained_again(synthetic_ml100k,
                                                      monkeypatch):
    data = read_data_ml100k(synthetic_ml100k[0])
    preds_of = {}
    first = train_blend(Preset(MEMBERS[:2]), data=data, preds_of=preds_of)
    assert len(preds_of) == 4  # two members, each on two splits
    monkeypatch.setattr(blend, 'train_and_evaluate', None)  # not called
    assert train_blend(Preset(MEMBERS[:2]), data=data,
                       preds_of=preds_of) == first
    one = train_blend(Preset(MEMBERS[:1]), data=data, preds_of=preds_of)
    assert one['members'] == {'I-AutoRec': first['members']['I-AutoRec']}
    assert first['seconds'] == sum(seconds for _, seconds in
                                   preds_of.values())

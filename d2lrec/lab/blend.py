"""Blends of AutoRec and MF: several models trained on one split, their
predictions added up with weights fitted on validation data (beyond
D2L §16.4).

A `d2lrec.lab.config.Preset` names its members, each a `Config` whose
split and seed are the blend's.  `train_blend` trains every member on a
validation split carved from the training set
(``train_and_evaluate(validation=True)``) and fits one weight per
member, and a constant, by least squares on those validation ratings;
then it trains the members again on the whole training set and tests
the weighted sum once.  The test set chooses nothing.  Each member's
``nets`` nets (the blend's) are averaged first; their initialization
seeds (`init_seeds`) differ across the runs of different seeds, so
that runs averaged over seeds share no net.

A blend's RMSE on the ratings that fitted its weights is optimistic,
and adding a member never raises it; `cross_fitted_rmse` scores each
fold of the validation ratings with weights fitted on the others, so
that a member that does not help scores worse
(benchmarks/derive_blend.py chooses the preset's members with it).

Predictions are items x users matrices (`d2lrec.lab.models.predict`).  Each
member's are adjusted by its own protocol options (``clip``,
``unseen_rating``), the blend's by `d2lrec.lab.config.PROTOCOL`'s, as
in the tuned preset.
"""
import dataclasses

import numpy as onp

from d2lrec.data import read_data
from d2lrec.devices import try_all_gpus
from d2lrec.lab.config import PROTOCOL, Config
from d2lrec.lab.evaluation import (adjust_predictions, observed_rmse,
                                   unseen_entries)
from d2lrec.lab.experiment import Run, split, train_and_evaluate
from d2lrec.lab.models import predict, rating_matrix


def rating_matrices(parts, num_users, num_items):
    """The items x users NumPy matrices of the ratings of `parts`, a
    split's ``(train_data, test_data)``."""
    return [rating_matrix(part, num_users, num_items) for part in parts]


#: The folds of the validation ratings in `cross_fitted_rmse`.
CROSS_FOLDS = 5


def init_seeds(seed, nets):
    """The initialization seeds of a run's `nets` nets: seed * nets, ...,
    seed * nets + nets - 1, disjoint across seeds (with one net, the
    run's own seed)."""
    return range(seed * nets, seed * nets + nets)


def member_predictions(config, data, parts, validation=False, nets=1,
                       devices=None, preds_of=None):
    """The mean items x users prediction of `nets` nets of `config`,
    initialized with the seeds `init_seeds` gives, each trained on
    `parts`, its split of `data` (with `validation`, the validation
    split), adjusted by its options; and the wall seconds of training
    them.  `preds_of` is `train_blend`'s."""
    devices = devices or try_all_gpus()
    _, num_users, num_items = data
    preds_of = {} if preds_of is None else preds_of
    train_data, _ = parts
    seeds = init_seeds(config.seed, nets)
    for init_seed in seeds:
        key = config, validation, init_seed
        if key not in preds_of:
            run = train_and_evaluate(config, validation, data,
                                     devices=devices, plot=False,
                                     verbose=False, every_epoch=False,
                                     return_net=True, init_seed=init_seed,
                                     parts=parts)
            preds_of[key] = (predict(run.net, config.model, num_users,
                                     num_items, train_data, devices[0]),
                             run['seconds'])
    preds, seconds = zip(*(preds_of[config, validation, init_seed]
                           for init_seed in seeds))
    train_matrix = rating_matrix(train_data, num_users, num_items)
    return (adjust_predictions(sum(preds) / nets,
                               unseen_entries(train_matrix), config.clip,
                               config.unseen_rating),
            sum(seconds))


def features(preds, observed):
    """The predictions `preds` (a list of matrices) at the entries where
    `observed` is true, one column each, then a column of ones."""
    return onp.stack([pred[observed] for pred in preds]
                     + [onp.ones(observed.sum())], axis=1)


def fit_weights(preds, ratings):
    """The least-squares weights of the predictions `preds` (a list of
    matrices), then of a constant, that best fit the observed entries of
    the matrix `ratings`."""
    observed = ratings > 0
    return onp.linalg.lstsq(features(preds, observed), ratings[observed],
                            rcond=None)[0]


def cross_fitted_rmse(preds, ratings, train_matrix, folds=CROSS_FOLDS):
    """The RMSE of the blend of `preds` on the observed entries of
    `ratings`, each fold of them (a seeded random share) predicted as
    `combine` does, with the weights fitted on the other folds."""
    observed = ratings > 0
    x, y = features(preds, observed), ratings[observed]
    fold_of = onp.random.RandomState(0).permutation(len(y)) % folds
    blended = onp.empty(len(y))
    for fold in range(folds):
        held_out = fold_of == fold
        weights = onp.linalg.lstsq(x[~held_out], y[~held_out],
                                   rcond=None)[0]
        blended[held_out] = x[held_out] @ weights
    blended = adjust_predictions(
        blended, unseen_entries(train_matrix)[observed], **PROTOCOL)
    return float(onp.sqrt(onp.mean(onp.square(y - blended))))


def combine(preds, weights, train_matrix):
    """`preds` blended with `weights` (`fit_weights`), adjusted by the
    protocol options (`PROTOCOL`) for the users and items without a
    rating in `train_matrix`."""
    blended = sum(w * pred for w, pred in zip(weights, preds))
    return adjust_predictions(blended + weights[-1],
                              unseen_entries(train_matrix), **PROTOCOL)


def train_blend(blend, split_mode=Config.split_mode, seed=Config.seed,
                test_ratio=Config.test_ratio, data=None, data_dir=None,
                devices=None, progress=None, preds_of=None):
    """Train and test `blend` (a `d2lrec.lab.config.Preset`) on the split of
    `split_mode`, `seed` and `test_ratio` (`Config`'s); return a `Run`.

    Its ``test_rmse`` is the blend's, ``validation_rmse`` its
    `cross_fitted_rmse` on the validation ratings, and ``weights`` those
    fitted on all of them (each member's, by name, then ``constant``).
    ``seconds`` is the wall time of training and testing all its nets,
    and ``members`` holds, by name, each
    member's own ``test_rmse`` and the ``seconds`` of its nets trained
    on the whole training set.  `progress`, a file, gets a line per
    member trained.

    `preds_of`, a dict, keeps each net's predictions and seconds: a net
    already in it (the same config, split and initialization) is not
    trained again, and its seconds still count.  Pass the same dict to
    several blends of the same `data`, and a net they share is trained
    once.
    """
    devices = devices or try_all_gpus()
    preds_of = {} if preds_of is None else preds_of
    configs = {name: dataclasses.replace(member, split_mode=split_mode,
                                         seed=seed, test_ratio=test_ratio)
               for name, member in blend.members}
    data = data or read_data(blend.members[0][1].dataset, data_dir)
    rmse, members, seconds = {}, {}, 0
    for validation in (True, False):  # one split each, for every member
        parts = split(next(iter(configs.values())), data, validation,
                      data_dir)
        train_matrix, ratings = rating_matrices(parts, *data[1:])
        preds = []
        for name, config in configs.items():
            pred, fit_seconds = member_predictions(
                config, data, parts, validation, blend.nets, devices,
                preds_of)
            preds.append(pred)
            seconds += fit_seconds
            members[name] = {'test_rmse': observed_rmse(ratings, pred),
                             'seconds': fit_seconds}
            if progress:
                print(f'{name}, {"validation" if validation else "test"} '
                      f'RMSE {members[name]["test_rmse"]:.4f}',
                      file=progress, flush=True)
        if validation:
            weights = fit_weights(preds, ratings)
            rmse[True] = cross_fitted_rmse(preds, ratings, train_matrix)
        else:
            rmse[False] = observed_rmse(
                ratings, combine(preds, weights, train_matrix))
    return Run(test_rmse=rmse[False], validation_rmse=rmse[True],
               model='blend', split=split_mode, seed=seed, seconds=seconds,
               devices=[str(d) for d in devices],
               weights=dict(zip([*configs, 'constant'], map(float, weights))),
               members=members)

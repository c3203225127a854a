"""One configuration, trained and evaluated: the chapter's run (D2L §16.4)
and its variants (exercises; §16.3's matrix factorization).

`train_and_evaluate` is what ``python -m d2lrec train`` runs.  It takes a
`d2lrec.lab.config.Config`, whose defaults are the chapter's "Training and
Evaluating the Model" cell, and its AutoRec path is that cell; the
config's model kind (`d2lrec.lab.models`) gives the net, the loaders and the
evaluator.  `d2lrec.lab.sweep` trains many configurations side by side.
"""
import dataclasses
import statistics
import time

import mxnet as mx
import numpy as onp
from mxnet import gluon
from mxnet.util import use_np

from d2lrec.lab.config import Config
from d2lrec.data import read_data, split_data_ml100k
from d2lrec.devices import try_all_gpus
from d2lrec.lab.loss import L2Loss
from d2lrec.lab.models import KINDS
from d2lrec.train import train_recsys_rating

#: Added to the seed for the validation split carved from the training set.
VALIDATION_SEED_OFFSET = 10_000


class Run(dict):
    """What `train_and_evaluate` returns: a dict of the run's numbers,
    as JSON takes it (``test_rmse``, ``train_loss``, ``model``, ``split``,
    ``seed``, ``epochs``, ``seconds``, ``devices``, ``history``), and, when
    asked for with ``return_net``, the trained ``net``, the ``config`` it
    was trained with and the ``num_users`` and ``num_items`` it was built
    for (else None).  `d2lrec.lab.blend.train_blend` returns one with a
    blend's numbers."""
    net = config = num_users = num_items = None


def mean_of_folds(runs, folds):
    """One `Run` for the runs of `folds` (their names, e.g. u1..u5): the
    means of their test RMSEs and of the training losses or validation
    RMSEs (a blend's, `d2lrec.lab.blend`), the total seconds, and each fold's
    test RMSE under ``folds``; the net of the last fold."""
    first = runs[0]
    run = Run({key: statistics.mean(r[key] for r in runs)
               for key in ('test_rmse', 'train_loss', 'validation_rmse')
               if key in first})
    run.update({key: first[key] for key in ('model', 'split', 'seed',
                                            'epochs') if key in first},
               split='folds', seconds=sum(r['seconds'] for r in runs),
               devices=first['devices'],
               folds={fold: r['test_rmse'] for fold, r in zip(folds, runs)})
    last = runs[-1]
    run.net, run.config, run.num_users, run.num_items = (
        last.net, last.config, last.num_users, last.num_items)
    return run


def split(config, data, validation=False, data_dir=None):
    """Return ``(train_data, test_data)``, the split of `config`
    (``split_mode``, ``test_ratio``, ``seed``) of `data`, a
    `d2lrec.data.Ratings`; with `validation`, the validation
    split carved from its training set instead (the same ``test_ratio``,
    seed + `VALIDATION_SEED_OFFSET`)."""
    df, num_users, num_items = data
    train_data, test_data = split_data_ml100k(
        df, num_users, num_items, config.split_mode, config.test_ratio,
        config.seed, data_dir=data_dir)
    if validation:
        train_data, test_data = split_data_ml100k(
            train_data, num_users, num_items, 'random', config.test_ratio,
            config.seed + VALIDATION_SEED_OFFSET)
    return train_data, test_data


@use_np
def train_and_evaluate(config=Config(), validation=False, data=None,
                       data_dir=None, devices=None, plot=None,
                       progress=None, verbose=True, every_epoch=True,
                       return_net=False, init_seed=None, parts=None,
                       **settings):
    """Train and evaluate one `Config` (D2L §16.4); return a dict.

    `settings` replace the config's, so that ``train_and_evaluate(seed=1)``
    is the chapter's run with seed 1 (see `d2lrec.lab.config.Config` for
    every setting).  With `validation`, the test set is replaced by a
    validation split carved from the training set (same ``test_ratio``),
    for model selection.  `data`, the `d2lrec.data.Ratings` of the
    config's ``dataset``, reuses a loaded dataset.  The config's ``seed``
    fixes the split, the initialization, dropout and the shuffling, so
    the same seed gives the same result on one machine; `init_seed`, if
    given, seeds the last three instead, for several nets on one split
    (`d2lrec.lab.blend`), which then passes that split, made once, as
    `parts`, ``(train_data, test_data)``.
    `plot`, `progress`, `verbose` and `every_epoch` (False: evaluate
    only after the last epoch) are passed to `train_recsys_rating`.

    The `Run`, a dict, holds ``test_rmse`` and ``train_loss`` of the last
    epoch, ``model``, ``split``, ``seed``, ``epochs``, ``seconds`` (wall
    time of training and evaluation), ``devices`` and the per-epoch
    ``history``.  With `return_net`, its ``net``, ``config``,
    ``num_users`` and ``num_items`` are the trained net, its settings and
    the sizes it was built for, to predict with or save the model.

    The chapter's run with seed 1, for one epoch:

    >>> result = train_and_evaluate(seed=1, num_epochs=1, plot=False,
    ...                             verbose=False)
    >>> result['model'], result['epochs'], len(result['history'])
    ('autorec', 1, 1)
    >>> 1 < result['test_rmse'] < 4
    True
    """
    if settings:
        config = dataclasses.replace(config, **settings)
    num_epochs, batch_size = config.budget
    devices = devices or try_all_gpus()
    data = data or read_data(config.dataset, data_dir)
    _, num_users, num_items = data
    train_data, test_data = parts or split(config, data, validation,
                                           data_dir)
    # After the split: the book's split reseeds MXNet's generators.
    init_seed = config.seed if init_seed is None else init_seed
    mx.random.seed(init_seed)  # initialization and dropout
    onp.random.seed(init_seed)  # the loaders' shuffling
    kind = KINDS[config.model]
    train_iter, test_iter, evaluate, kwargs = kind.setup(
        config, batch_size, train_data, test_data, num_users, num_items)
    net = kind.build_net(config, num_users, num_items)
    net.initialize(ctx=devices, force_reinit=True, init=mx.init.Normal(0.01))
    loss = L2Loss()
    optimizer_params = {'learning_rate': config.lr, 'wd': config.wd}
    if config.lr_schedule == 'cosine':
        optimizer_params['lr_scheduler'] = mx.lr_scheduler.CosineScheduler(
            max_update=num_epochs * len(train_iter), base_lr=config.lr,
            final_lr=config.lr / 100)
    trainer = gluon.Trainer(net.collect_params(), 'adam', optimizer_params)
    start = time.perf_counter()
    history = train_recsys_rating(net, train_iter, test_iter, loss, trainer,
                                  num_epochs, devices, evaluate, plot=plot,
                                  progress=progress, verbose=verbose,
                                  every_epoch=every_epoch, **kwargs)
    run = Run(test_rmse=history[-1]['test_rmse'],
              train_loss=history[-1]['train_loss'], model=config.model,
              split=config.split_mode, seed=config.seed, epochs=num_epochs,
              seconds=time.perf_counter() - start,
              devices=[str(d) for d in devices], history=history)
    if return_net:
        run.net, run.config = net, config
        run.num_users, run.num_items = num_users, num_items
    return run

"""One configuration, trained and evaluated: the chapter's run (D2L §16.4)
and its variants (exercises; §16.3's matrix factorization).

`train_and_evaluate` is what ``python -m d2lrec train`` runs.  It takes a
`d2lrec.config.Config`, whose defaults are the chapter's "Training and
Evaluating the Model" cell, and its AutoRec path is that cell;
``model='uautorec'`` feeds the transposed matrices, ``model='mf'`` trains
§16.3's MF on the same split.  `build_net` makes a configuration's net,
here and for a saved model.  `compare` trains many, for the exercises'
tables: `train_many` runs them side by side in worker processes.
"""
import dataclasses
import multiprocessing
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import repeat

import mxnet as mx
import numpy as onp
import pandas as pd
from mxnet import gluon, npx

from d2lrec.autorec import DeepAutoRec
from d2lrec.config import (DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, Config,
                           num_cores, threads_for_new_processes)
from d2lrec.data import (ArrayLoader, load_data_ml100k, read_data_ml100k,
                         split_data_ml100k)
from d2lrec.devices import try_all_gpus
from d2lrec.loss import L2Loss
from d2lrec.mf import MF, rating_loaders
from d2lrec.protocol import autorec_evaluator, mf_evaluator
from d2lrec.train import train_recsys_rating

#: Added to the seed for the validation split carved from the training set.
VALIDATION_SEED_OFFSET = 10_000

#: Rows per forward pass when evaluating AutoRec: the chapter's test_iter.
EVAL_BATCH_SIZE = 1024

#: The most worker processes `train_many` starts by default.
MAX_WORKERS = 4

#: `train_many`'s worker processes, by their number: started on first
#: use, then kept for the next call.
_POOLS = {}


def _autorec_setup(config, batch_size, train_data, test_data, num_users,
                   num_items):
    _, _, _, train_inter_mat = load_data_ml100k(train_data, num_users,
                                                num_items)
    _, _, _, test_inter_mat = load_data_ml100k(test_data, num_users,
                                               num_items)
    if config.model == 'uautorec':  # rows are users: the users x items matrix
        train_inter_mat, test_inter_mat = train_inter_mat.T, test_inter_mat.T
    num_rows = train_inter_mat.shape[0]
    if batch_size > num_rows:
        raise ValueError(f'batch size {batch_size} is larger than the '
                         f'{num_rows} rows of the matrix, so no batch '
                         f'would be full')
    # The chapter's DataLoaders, batch for batch: training batches in the
    # same shuffled order, and the evaluator's batches of 1024 rows.
    rows = onp.ascontiguousarray(train_inter_mat.asnumpy())
    train_iter = ArrayLoader((rows,), batch_size, shuffle=True,
                             last_batch='rollover')
    test_iter = [mx.np.array(rows[start:start + EVAL_BATCH_SIZE])
                 for start in range(0, num_rows, EVAL_BATCH_SIZE)]
    evaluate = autorec_evaluator(rows, config.clip, config.unseen_rating)
    return train_iter, test_iter, evaluate, {'inter_mat': test_inter_mat}


def _mf_setup(config, batch_size, train_data, test_data, num_users,
              num_items):
    train_iter, test_iter = rating_loaders(train_data, test_data, num_users,
                                           num_items, batch_size)
    train_users, train_items, _ = train_iter.arrays
    evaluate = mf_evaluator(train_users, train_items, config.clip,
                            config.unseen_rating)
    return train_iter, test_iter, evaluate, {}


def build_net(config, num_users, num_items):
    """Return the uninitialized net of a `Config`: a `DeepAutoRec`
    (D2L §16.4) with one output per user (``'autorec'``) or per item
    (``'uautorec'``), or §16.3's `MF` (``'mf'``)."""
    if config.model == 'mf':
        return MF(config.num_factors, num_users, num_items)
    outputs = num_users if config.model == 'autorec' else num_items
    return DeepAutoRec(config.hidden_layers, outputs, config.encoder_act,
                       config.decoder_act, config.dropout)


def train_and_evaluate(config=Config(), validation=False, data=None,
                       data_dir=None, devices=None, plot=None,
                       progress=None, verbose=True, every_epoch=True,
                       return_net=False, **settings):
    """Train and evaluate one `Config` (D2L §16.4); return a dict.

    `settings` replace the config's, so that ``train_and_evaluate(seed=1)``
    is the chapter's run with seed 1 (see `d2lrec.config.Config` for every
    setting).  With `validation`, the test set is replaced by a
    validation split carved from the training set (same ``test_ratio``),
    for model selection.  `data` is ``read_data_ml100k()``'s result, to
    reuse a loaded dataset.  The config's ``seed`` fixes the split, the
    initialization, dropout and the shuffling, so the same seed gives the
    same result on one machine.  `plot`, `progress`, `verbose` and
    `every_epoch` (False: evaluate only after the last epoch) are passed
    to `train_recsys_rating`.

    The dict holds ``test_rmse`` and ``train_loss`` of the last epoch,
    ``model``, ``split``, ``seed``, ``epochs``, ``seconds`` (wall time of
    training and evaluation), ``devices`` and the per-epoch ``history``.
    With `return_net`, the result is ``(dict, net, num_users,
    num_items)``, for saving the model.
    """
    config = dataclasses.replace(config, **settings)
    num_epochs = config.num_epochs or DEFAULT_EPOCHS[config.model]
    batch_size = config.batch_size or DEFAULT_BATCH_SIZE[config.model]
    mx.random.seed(config.seed)  # initialization and dropout
    onp.random.seed(config.seed)  # the loaders' shuffling
    devices = devices or try_all_gpus()
    df, num_users, num_items = data or read_data_ml100k(data_dir)
    train_data, test_data = split_data_ml100k(
        df, num_users, num_items, config.split_mode, config.test_ratio,
        config.seed, data_dir=data_dir)
    if validation:
        train_data, test_data = split_data_ml100k(
            train_data, num_users, num_items, 'random', config.test_ratio,
            config.seed + VALIDATION_SEED_OFFSET)
    setup = _mf_setup if config.model == 'mf' else _autorec_setup
    train_iter, test_iter, evaluate, kwargs = setup(
        config, batch_size, train_data, test_data, num_users, num_items)
    net = build_net(config, num_users, num_items)
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
    result = {'test_rmse': history[-1]['test_rmse'],
              'train_loss': history[-1]['train_loss'],
              'model': config.model, 'split': config.split_mode,
              'seed': config.seed, 'epochs': num_epochs,
              'seconds': time.perf_counter() - start,
              'devices': [str(d) for d in devices],
              'history': history}
    return (result, net, num_users, num_items) if return_net else result


def train_many(configs, data=None, validation=False, workers=None,
               rmse_of=None):
    """Train and evaluate every `Config` of `configs`, each after its
    last epoch only (a sweep uses nothing else); return their test RMSEs
    in order.  `data` and `validation` are `train_and_evaluate`'s.

    `rmse_of`, a dict, keeps each config's RMSE (its seed included): a
    config already in it is not trained again, since on one machine it
    would give the same RMSE.  Pass the same dict to several sweeps of
    the same `data` and `validation`, and a run they share is trained
    once.

    On a CPU, `workers` processes train several configs at once (default:
    one per core, at most `MAX_WORKERS`), each with its share of the
    cores as MXNet's threads.  Much of a small run's step is Python and
    waiting, so this does more runs per second than one process using
    every core: on 2 cores, about 1.4 times as many.  The RMSEs are the
    same as in this process: with 1 or 2 threads, MXNet 1.9.1 computes
    the same bits (tests/test_train_many.py).  The workers stay for the
    next call (each takes seconds to start) and end with this process.
    With ``workers=1``, when MXNet sees a GPU, or for a single run, the
    runs are trained here, one after another.
    """
    configs = list(configs)
    rmse_of = {} if rmse_of is None else rmse_of
    new = [config for config in dict.fromkeys(configs)
           if config not in rmse_of]
    if workers is None:
        workers = 1 if try_all_gpus()[0].device_type == 'gpu' else min(
            num_cores(), MAX_WORKERS)
    if workers <= 1 or len(new) <= 1:  # here, on every core
        rmses = map(_test_rmse, new, repeat(data), repeat(validation))
    else:  # the longest first, so that none is left to run alone at the end
        new.sort(key=_work, reverse=True)
        rmses = _in_workers(workers, new, data or read_data_ml100k(),
                            validation)
    rmse_of.update(zip(new, rmses))
    return [rmse_of[config] for config in configs]


def _work(config):
    """Roughly how long `config` trains: epochs times hidden units (MF,
    whose many small batches take about as long, counts its config's)."""
    return ((config.num_epochs or DEFAULT_EPOCHS[config.model])
            * sum(config.hidden_layers))


def _in_workers(workers, configs, data, validation):
    """`_test_rmse` of each config, in `workers` processes."""
    pool = _POOLS.get(workers)
    if pool is None:  # 'spawn': a process running mxnet can't safely fork
        pool = _POOLS[workers] = ProcessPoolExecutor(
            workers, multiprocessing.get_context('spawn'),
            # Ctrl-C (Jupyter's interrupt signals the whole process group)
            # stops the sweep here; the workers finish their run quietly.
            initializer=signal.signal,
            initargs=(signal.SIGINT, signal.SIG_IGN))
    try:
        with threads_for_new_processes(max(1, num_cores() // workers)):
            rmses = pool.map(_test_rmse, configs, repeat(data),
                             repeat(validation))  # starts missing workers
        return list(rmses)  # after an error or Ctrl-C, no other run starts
    except BrokenProcessPool:  # a worker died: start new ones next time
        del _POOLS[workers]
        raise


def _test_rmse(config, data, validation):
    npx.set_np()  # the book's numpy semantics, also in a new process
    return train_and_evaluate(config, validation=validation, data=data,
                              plot=False, verbose=False,
                              every_epoch=False)['test_rmse']


def compare(configurations, seeds=(0, 1, 2), data=None, workers=None,
            rmse_of=None):
    """Train every configuration with every seed (the exercises of
    D2L §16.4); return a DataFrame of test RMSEs.

    `configurations` maps a label to a `Config`.  Each row holds one
    configuration's test RMSE per seed, and their ``mean`` and sample
    ``std``.  The runs go to `train_many` (`workers` processes; a run in
    `rmse_of`, a dict shared by several tables, is not trained again).
    """
    rmses = iter(train_many([dataclasses.replace(config, seed=seed)
                             for config in configurations.values()
                             for seed in seeds], data, workers=workers,
                            rmse_of=rmse_of))
    rows = {}
    for label in configurations:
        rmse = pd.Series([next(rmses) for _ in seeds],
                         index=[f'seed {seed}' for seed in seeds])
        rows[label] = pd.concat([rmse, pd.Series({'mean': rmse.mean(),
                                                  'std': rmse.std()})])
    return pd.DataFrame(rows).T

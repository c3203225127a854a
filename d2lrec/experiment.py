"""One configuration, trained and evaluated: the chapter's run (D2L §16.4)
and its variants (exercises; §16.3's matrix factorization).

`train_and_evaluate` is what ``python -m d2lrec train`` runs.  Its
defaults are the chapter's "Training and Evaluating the Model" cell, and
its AutoRec path is that cell; ``model='uautorec'`` feeds the transposed
matrices, ``model='mf'`` trains §16.3's MF on the same split.
"""
import time

import mxnet as mx
import numpy as onp
import pandas as pd
from mxnet import gluon

from d2lrec.autorec import DeepAutoRec
from d2lrec.config import DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, MODELS
from d2lrec.data import load_data_ml100k, read_data_ml100k, split_data_ml100k
from d2lrec.devices import try_all_gpus
from d2lrec.loss import L2Loss
from d2lrec.mf import MF, rating_loaders
from d2lrec.protocol import autorec_evaluator, mf_evaluator
from d2lrec.train import train_recsys_rating

#: Added to the seed for the validation split carved from the training set.
VALIDATION_SEED_OFFSET = 10_000


def _autorec_setup(train_data, test_data, num_users, num_items, model,
                   hidden_layers, encoder_act, decoder_act, dropout,
                   batch_size, clip, unseen_rating):
    _, _, _, train_inter_mat = load_data_ml100k(train_data, num_users,
                                                num_items)
    _, _, _, test_inter_mat = load_data_ml100k(test_data, num_users,
                                               num_items)
    if model == 'uautorec':  # rows are users: the users x items matrix
        train_inter_mat, test_inter_mat = train_inter_mat.T, test_inter_mat.T
    num_rows, num_outputs = train_inter_mat.shape
    if batch_size > num_rows:
        raise ValueError(f'batch size {batch_size} is larger than the '
                         f'{num_rows} rows of the matrix, so no batch '
                         f'would be full')
    # DataLoader fetches rows one by one: from a NumPy copy that is cheap.
    rows = onp.ascontiguousarray(train_inter_mat.asnumpy())
    train_iter = gluon.data.DataLoader(rows, shuffle=True,
                                       last_batch='rollover',
                                       batch_size=batch_size)
    test_iter = gluon.data.DataLoader(rows, shuffle=False, last_batch='keep',
                                      batch_size=1024)
    net = DeepAutoRec(hidden_layers, num_outputs, encoder_act, decoder_act,
                      dropout)
    evaluate = autorec_evaluator(rows, clip, unseen_rating)
    return net, train_iter, test_iter, evaluate, {'inter_mat':
                                                  test_inter_mat}


def _mf_setup(train_data, test_data, num_users, num_items, num_factors,
              batch_size, clip, unseen_rating):
    train_iter, test_iter = rating_loaders(train_data, test_data, num_users,
                                           num_items, batch_size)
    net = MF(num_factors, num_users, num_items)
    train_users, train_items, _ = train_iter.arrays
    evaluate = mf_evaluator(train_users, train_items, clip, unseen_rating)
    return net, train_iter, test_iter, evaluate, {}


def train_and_evaluate(model='autorec', hidden_layers=(500,),
                       encoder_act='sigmoid', decoder_act='identity',
                       num_factors=30, num_epochs=None, lr=0.002, wd=1e-5,
                       batch_size=None, dropout=0.05, split_mode='random',
                       test_ratio=0.1, seed=0, lr_schedule=None,
                       clip=False, unseen_rating=None, validation=False,
                       data=None, data_dir=None, devices=None, plot=None,
                       progress=None, verbose=True, return_net=False):
    """Train and evaluate one configuration (D2L §16.4); return a dict.

    `model` is ``'autorec'`` (item-based, the chapter's), ``'uautorec'``
    (user-based) or ``'mf'`` (§16.3, `num_factors` factors).  `num_epochs`
    and `batch_size` default to 25 and 256 for AutoRec, 20 and 512 for MF.
    `split_mode` is ``'random'`` (with `test_ratio`), ``'seq-aware'`` or
    a canonical fold ``'u1'`` ... ``'u5'``.  `lr_schedule` ``'cosine'``
    decays the learning rate to 1% of `lr` over the run; `clip` and
    `unseen_rating` are the options of `d2lrec.protocol`.  With
    `validation`, the test set is replaced by a validation split carved
    from the training set (same `test_ratio`), for model selection.
    `data` is ``read_data_ml100k()``'s result, to reuse a loaded dataset.
    `seed` fixes the split, the initialization, dropout and the shuffling,
    so the same seed gives the same result on one machine.  `plot`,
    `progress` and `verbose` are passed to `train_recsys_rating`.

    The dict holds ``test_rmse`` and ``train_loss`` of the last epoch,
    ``model``, ``split``, ``seed``, ``epochs``, ``seconds`` (wall time of training and evaluation),
    ``devices`` and the per-epoch ``history``.  With `return_net`, the
    result is ``(dict, net, num_users, num_items)``, for saving the model.
    """
    if model not in MODELS:
        raise ValueError(f'model must be one of {MODELS}, got {model!r}')
    num_epochs = num_epochs or DEFAULT_EPOCHS[model]
    batch_size = batch_size or DEFAULT_BATCH_SIZE[model]
    mx.random.seed(seed)  # initialization and dropout
    onp.random.seed(seed)  # the loaders' shuffling
    devices = devices or try_all_gpus()
    df, num_users, num_items = data or read_data_ml100k(data_dir)
    train_data, test_data = split_data_ml100k(
        df, num_users, num_items, split_mode, test_ratio, seed,
        data_dir=data_dir)
    if validation:
        train_data, test_data = split_data_ml100k(
            train_data, num_users, num_items, 'random', test_ratio,
            seed + VALIDATION_SEED_OFFSET)
    if model == 'mf':
        net, train_iter, test_iter, evaluate, kwargs = _mf_setup(
            train_data, test_data, num_users, num_items, num_factors,
            batch_size, clip, unseen_rating)
    else:
        net, train_iter, test_iter, evaluate, kwargs = _autorec_setup(
            train_data, test_data, num_users, num_items, model,
            tuple(hidden_layers), encoder_act, decoder_act, dropout,
            batch_size, clip, unseen_rating)
    net.initialize(ctx=devices, force_reinit=True, init=mx.init.Normal(0.01))
    loss = L2Loss()
    optimizer_params = {'learning_rate': lr, 'wd': wd}
    if lr_schedule == 'cosine':
        optimizer_params['lr_scheduler'] = mx.lr_scheduler.CosineScheduler(
            max_update=num_epochs * len(train_iter), base_lr=lr,
            final_lr=lr / 100)
    elif lr_schedule is not None:
        raise ValueError(f"lr_schedule must be None or 'cosine', got "
                         f'{lr_schedule!r}')
    trainer = gluon.Trainer(net.collect_params(), 'adam', optimizer_params)
    start = time.perf_counter()
    history = train_recsys_rating(net, train_iter, test_iter, loss, trainer,
                                  num_epochs, devices, evaluate, plot=plot,
                                  progress=progress, verbose=verbose,
                                  **kwargs)
    result = {'test_rmse': history[-1]['test_rmse'],
              'train_loss': history[-1]['train_loss'],
              'model': model, 'split': split_mode, 'seed': seed,
              'epochs': num_epochs,
              'seconds': time.perf_counter() - start,
              'devices': [str(d) for d in devices],
              'history': history}
    return (result, net, num_users, num_items) if return_net else result


def compare(configurations, seeds=(0, 1, 2), data=None):
    """Train every configuration with every seed (the exercises of
    D2L §16.4); return a DataFrame of test RMSEs.

    `configurations` maps a label to keyword arguments of
    `train_and_evaluate`.  Each row holds one configuration's test RMSE
    per seed, and their ``mean`` and sample ``std``.
    """
    rows = {}
    for label, kwargs in configurations.items():
        runs = [train_and_evaluate(seed=seed, data=data, plot=False,
                                   verbose=False, **kwargs)
                for seed in seeds]
        rmse = pd.Series([r['test_rmse'] for r in runs],
                         index=[f'seed {seed}' for seed in seeds])
        rows[label] = pd.concat([rmse, pd.Series({'mean': rmse.mean(),
                                                  'std': rmse.std()})])
    return pd.DataFrame(rows).T

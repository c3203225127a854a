"""D2L §16.4 end to end: item-based AutoRec on MovieLens 100K.

`train_autorec` is the chapter's "Training and Evaluating the Model" cell
as a function, with the chapter's settings as defaults; the CLI, the
benchmark and the real-data tests call it.
"""
import time

import mxnet as mx
import numpy as np
from mxnet import gluon

from d2lrec.data import load_data_ml100k, read_data_ml100k, split_data_ml100k
from d2lrec.devices import try_all_gpus
from d2lrec.models import AutoRec, evaluator
from d2lrec.train import train_recsys_rating


def train_autorec(num_hidden=500, num_epochs=25, lr=0.002, wd=1e-5,
                  batch_size=256, dropout=0.05, split_mode='random',
                  test_ratio=0.1, seed=0, data_dir=None, devices=None,
                  plot=None, progress=None):
    """Train and evaluate the chapter's AutoRec (D2L §16.4); return a dict.

    `seed` fixes the split, the initialization, dropout and the shuffling,
    so the same seed gives the same result on one machine.  The dict holds
    ``test_rmse`` and ``train_loss`` of the last epoch, ``epochs``,
    ``seconds`` (wall time of training and evaluation), ``devices`` and the
    per-epoch ``history``.
    """
    mx.random.seed(seed)  # initialization and dropout
    np.random.seed(seed)  # the DataLoader's shuffling
    devices = devices or try_all_gpus()
    df, num_users, num_items = read_data_ml100k(data_dir)
    train_data, test_data = split_data_ml100k(
        df, num_users, num_items, split_mode, test_ratio, seed)
    if batch_size > num_items:
        raise ValueError(f'batch size {batch_size} is larger than the '
                         f'{num_items} items, so no batch would be full')
    _, _, _, train_inter_mat = load_data_ml100k(train_data, num_users,
                                                num_items)
    _, _, _, test_inter_mat = load_data_ml100k(test_data, num_users,
                                               num_items)
    train_iter = gluon.data.DataLoader(train_inter_mat.asnumpy(), shuffle=True,
                                       last_batch='rollover',
                                       batch_size=batch_size)
    test_iter = gluon.data.DataLoader(train_inter_mat.asnumpy(), shuffle=False,
                                      last_batch='keep', batch_size=1024)
    net = AutoRec(num_hidden, num_users, dropout)
    net.initialize(ctx=devices, force_reinit=True, init=mx.init.Normal(0.01))
    loss = gluon.loss.L2Loss()
    trainer = gluon.Trainer(net.collect_params(), 'adam',
                            {'learning_rate': lr, 'wd': wd})
    start = time.perf_counter()
    history = train_recsys_rating(net, train_iter, test_iter, loss, trainer,
                                  num_epochs, devices, evaluator, plot=plot,
                                  progress=progress,
                                  inter_mat=test_inter_mat)
    return {'test_rmse': history[-1]['test_rmse'],
            'train_loss': history[-1]['train_loss'],
            'epochs': num_epochs,
            'seconds': time.perf_counter() - start,
            'devices': [str(d) for d in devices],
            'history': history}

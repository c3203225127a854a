"""The book's code path for D2L §16.4, timed: d2l 1.0.3 + the chapter's cells.

Only two things differ from the book: the device list falls back to the CPU
(d2l 1.0.3's ``try_all_gpus()`` returns ``[]`` there), and the data are read
from the extracted folder that ``d2lrec`` resolves instead of downloaded.
``python benchmarks/book_path.py [SEED]`` prints its test RMSE and wall time
(from data load to the end of training) as one JSON line; see
chapter_speed.py.
"""
import json
import sys
import time

import d2lrec  # noqa: F401  (first: restores numpy.bool for mxnet)
import numpy
import mxnet as mx
from mxnet import gluon, np, npx
from d2l import mxnet as d2l

from d2lrec.download import download_extract_ml100k
# The chapter's cells, verbatim (tests/test_notebook_sync.py checks them).
from d2lrec.autorec import AutoRec, evaluator

npx.set_np()


def main(seed=0):
    """Run the chapter as the book does; return (test RMSE, seconds)."""
    mx.random.seed(seed)
    numpy.random.seed(seed)
    data_dir = download_extract_ml100k()
    d2l.download_extract = lambda name, folder=None: data_dir
    rmse = {}

    def recording_evaluator(*args):  # d2l's loop returns nothing
        rmse['test'] = evaluator(*args)
        return rmse['test']

    start = time.perf_counter()
    devices = d2l.try_all_gpus() or [mx.cpu()]  # the one fix
    df, num_users, num_items = d2l.read_data_ml100k()
    train_data, test_data = d2l.split_data_ml100k(df, num_users, num_items)
    _, _, _, train_inter_mat = d2l.load_data_ml100k(train_data, num_users,
                                                    num_items)
    _, _, _, test_inter_mat = d2l.load_data_ml100k(test_data, num_users,
                                                   num_items)
    train_iter = gluon.data.DataLoader(
        train_inter_mat, shuffle=True, last_batch="rollover",
        batch_size=256, num_workers=d2l.get_dataloader_workers())
    test_iter = gluon.data.DataLoader(
        np.array(train_inter_mat), shuffle=False, last_batch="keep",
        batch_size=1024, num_workers=d2l.get_dataloader_workers())
    net = AutoRec(500, num_users)
    net.initialize(ctx=devices, force_reinit=True, init=mx.init.Normal(0.01))
    lr, num_epochs, wd, optimizer = 0.002, 25, 1e-5, 'adam'
    loss = gluon.loss.L2Loss()
    trainer = gluon.Trainer(net.collect_params(), optimizer,
                            {"learning_rate": lr, 'wd': wd})
    d2l.train_recsys_rating(net, train_iter, test_iter, loss, trainer,
                            num_epochs, devices, recording_evaluator,
                            inter_mat=test_inter_mat)
    return rmse['test'], time.perf_counter() - start


if __name__ == '__main__':
    test_rmse, seconds = main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(json.dumps({'test_rmse': test_rmse, 'seconds': seconds}))

"""Many configurations, trained side by side: the sweeps of the chapter's
exercises (D2L §16.4) and of the tuning (`d2lrec.lab.tune`).

`train_many` trains configurations in worker processes, one per core
(at most `MAX_WORKERS`), each with its share of the cores as MXNet's
threads, and keeps each run's RMSE so that a run shared by several
tables is trained once.  `compare` gives the exercises' tables: every
configuration over several seeds, with their mean and std.
"""
import dataclasses
import multiprocessing
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import repeat

import pandas as pd

from d2lrec.data import read_data
from d2lrec.devices import try_all_gpus
from d2lrec.lab.experiment import train_and_evaluate
from d2lrec.lab.threads import num_cores, threads_for_new_processes

#: The most worker processes `train_many` starts by default.
MAX_WORKERS = 4

#: `train_many`'s worker processes, by their number: started on first
#: use, then kept for the next call.
_POOLS = {}


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
    cores as MXNet's threads: a small run's step is partly Python and
    waiting, so this trains more runs per second than one process on
    every core (docs/speed.md).  They give the RMSEs that this process
    gives (tests/test_sweep.py).  The workers stay for the next call
    (each takes seconds to start) and end with this process.  They
    import the ``__main__`` script, as 'spawn' does, so a script that
    calls this must keep its code under ``if __name__ == '__main__':``.
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
        rmses = _in_workers(workers, new, data or read_data(new[0].dataset),
                            validation)
    rmse_of.update(zip(new, rmses))
    return [rmse_of[config] for config in configs]


def _work(config):
    """Roughly how long `config` trains: epochs times hidden units (MF,
    whose many small batches take about as long, counts its config's)."""
    return config.budget.num_epochs * sum(config.hidden_layers)


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
    except BrokenProcessPool as e:  # a worker died: new ones next time
        del _POOLS[workers]
        if hasattr(sys.modules['__main__'], '__file__'):  # a script
            raise BrokenProcessPool(
                f'{e} If this runs from a script, put its code under '
                f"``if __name__ == '__main__':``: each worker process "
                f'imports the script, and unguarded code there starts '
                f'the runs again (docs/results.md).') from e
        raise


def _test_rmse(config, data, validation):
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

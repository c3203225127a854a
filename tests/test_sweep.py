"""Sweeps (d2lrec.lab.sweep): many configurations trained in worker processes
(`train_many`, behind `compare` and `coordinate_search`) give the RMSEs
of training them one after another in this process, bit for bit, and a
worker's error is raised here; `compare`'s table.

The comparisons train on the real MovieLens 100K (skipped without it,
except in CI), a few epochs each; the rest is synthetic.
"""
import os
import pathlib
import signal
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool

import pandas as pd
import pytest

from d2lrec.lab import sweep
from d2lrec.lab.config import Config
from d2lrec.data import read_data_ml100k
from d2lrec.lab.sweep import compare, train_many
from d2lrec.train import DivergenceError
from support import NUM_ITEMS, NUM_USERS

#: One of each kind of run in the notebooks: AutoRec (the chapter's,
#: deeper, with the protocol's options), U-AutoRec, MF, seq-aware split.
CONFIGS = [
    Config(num_epochs=3),
    Config(model='uautorec', num_epochs=2, seed=1),
    Config(model='mf', num_epochs=1, seed=2),
    Config(split_mode='seq-aware', hidden_layers=(50, 20, 50),
           decoder_act='relu', num_epochs=2),
    Config(num_epochs=2, clip=True, unseen_rating=3, seed=1),
]


@pytest.mark.parametrize('validation', [False, True])
def test_workers_give_the_rmses_of_one_process(ml100k, validation):
    here = train_many(CONFIGS, ml100k, validation, workers=1)
    assert train_many(CONFIGS, ml100k, validation, workers=2) == here
    assert len(set(here)) == len(CONFIGS)  # five different runs


def test_compare_is_the_same_table_with_workers(ml100k):
    configs = {'chapter': Config(num_epochs=2),
               'hidden 50': Config(hidden_layers=(50,), num_epochs=2)}
    here = compare(configs, seeds=(0, 1), data=ml100k, workers=1)
    assert compare(configs, (0, 1), ml100k, workers=2).equals(here)
    assert here.loc['chapter', 'seed 1'] == train_many(
        [Config(num_epochs=2, seed=1)], ml100k, workers=1)[0]


def test_an_error_in_a_worker_is_raised_here(synthetic_ml100k):
    data = read_data_ml100k(synthetic_ml100k[0])
    with pytest.raises(DivergenceError, match='training diverged in epoch'):
        train_many([Config(hidden_layers=(4,), batch_size=8, num_epochs=2),
                    Config(hidden_layers=(4,), batch_size=8, num_epochs=2,
                           lr=1e9)], data, workers=2)


def test_no_run_gives_no_rmse():
    assert train_many([]) == []


def test_a_run_in_rmse_of_is_not_trained_again(monkeypatch):
    trained = []

    def fake(config, data, validation):
        trained.append(config)
        return config.hidden_layers[0] / 1000

    monkeypatch.setattr('d2lrec.lab.sweep._test_rmse', fake)
    known = {Config(): 0.9}  # the chapter's, as if trained before
    configs = {'chapter': Config(), 'hidden 200': Config(hidden_layers=(200,))}
    table = compare(configs, seeds=(0, 1), workers=1, rmse_of=known)
    assert list(table['seed 0']) == [0.9, 0.2]  # 0.9: not trained again
    assert list(table['seed 1']) == [0.5, 0.2]
    assert trained == [Config(seed=1), Config(hidden_layers=(200,)),
                       Config(hidden_layers=(200,), seed=1)]
    compare(configs, seeds=(0, 1), workers=1, rmse_of=known)
    assert len(trained) == 3 and len(known) == 4  # all four known now
    assert train_many([Config(), Config()], workers=1) == [0.5, 0.5]
    assert len(trained) == 4  # the same config twice: trained once


@pytest.fixture
def two_runs(synthetic_ml100k):
    """``(data, configs, rmses, pool)``: two tiny runs on synthetic data,
    trained by two workers, and those workers."""
    data = read_data_ml100k(synthetic_ml100k[0])
    configs = [Config(hidden_layers=(4,), batch_size=8, num_epochs=1,
                      seed=seed) for seed in (0, 1)]
    rmses = train_many(configs, data, workers=2)
    return data, configs, rmses, sweep._POOLS[2]


def test_workers_are_kept_and_a_dead_one_is_replaced(two_runs):
    data, configs, rmses, pool = two_runs
    assert train_many(configs[::-1], data, workers=2) == rmses[::-1]
    assert sweep._POOLS[2] is pool  # the same workers, kept
    for process in list(pool._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
        process.join()
    with pytest.raises(BrokenProcessPool):
        train_many(configs, data, workers=2)
    assert train_many(configs, data, workers=2) == rmses  # new workers
    assert sweep._POOLS[2] is not pool


def test_ctrl_c_stops_the_sweep_not_the_workers(two_runs):
    data, configs, rmses, pool = two_runs
    for process in list(pool._processes.values()):  # as Jupyter does
        os.kill(process.pid, signal.SIGINT)
    assert train_many(configs, data, workers=2) == rmses
    assert sweep._POOLS[2] is pool  # the workers lived on


def test_an_unguarded_script_is_told_to_add_the_guard(tmp_path):
    """Spawned workers import the script again; unguarded, it starts the
    sweep again there and they die: the error says what to do."""
    script = tmp_path / 'unguarded.py'
    script.write_text(
        'import sys\n'
        'sys.path.insert(0, sys.argv[1])\n'
        'from support import make_ratings\n'
        'from d2lrec.lab import Config, compare\n'
        f'data = make_ratings(), {NUM_USERS}, {NUM_ITEMS}\n'
        "compare({'tiny': Config(hidden_layers=(4,), batch_size=8,\n"
        '                        num_epochs=1)}, data=data, workers=2)\n')
    tests = str(pathlib.Path(__file__).parent)
    out = subprocess.run([sys.executable, script.name, tests],
                         cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith('concurrent.futures.process.BrokenProcessPool')
    assert ("If this runs from a script, put its code under "
            "``if __name__ == '__main__':``") in last


def test_compare_gives_mean_and_std(synthetic_folds):
    table = sweep.compare(
        {'tiny': Config(hidden_layers=(4,), num_epochs=1, batch_size=8)},
        seeds=(0, 1), data=read_data_ml100k(synthetic_folds[0]))
    assert list(table.columns) == ['seed 0', 'seed 1', 'mean', 'std']
    row = table.loc['tiny']
    assert row['mean'] == pytest.approx((row['seed 0'] + row['seed 1']) / 2)
    assert isinstance(table, pd.DataFrame)

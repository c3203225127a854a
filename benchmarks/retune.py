"""The tuned preset under a clean protocol: its settings chosen again on
each protocol's own training data (beyond D2L §16.4).

``--preset tuned`` (`d2lrec.lab.config.TUNED`) was chosen by
`d2lrec.lab.tune.coordinate_search` on a validation split of the seed-0
random split's training set, which holds about 9% of each fold's
``u{k}.test`` and of the seed 1-4 test sets
(benchmarks/validation_overlap.py).  Here the same search, from the same
start over the same options (the training budget, hence the stop epoch,
included), runs once per protocol, on a validation split carved from
that protocol's training set only (``train_and_evaluate(validation=
True)``: 10% of it, seed + 10000); the chosen settings are then trained
on the whole training set and tested once, after the last epoch.  The
protocols are benchmarks/peers.py's: the folds u1-u5 with seed 0 and
the random 90/10 splits with seeds 0-4.

d2lrec/results/retune.csv gets one row per protocol: the chosen
settings, whether they are the preset's, their validation and test
RMSE, and the wall seconds of the final fit and test (``seconds``, as in
benchmarks/peers.py) and of the search before it.  docs/results.md
shows them (tests/test_results.py).  About 2 minutes a protocol on two
cores (11 validation runs, two at a time, and the test run).

    D2LREC_DATA_DIR=../shared/data nice python benchmarks/retune.py
"""
import dataclasses
import sys
import time

from peers import PROTOCOLS
from tables import write_csv

#: The settings the search varies (`d2lrec.lab.tune.SEARCH_SPACE`).
SEARCHED = ('num_epochs', 'lr', 'lr_schedule', 'hidden_layers',
            'decoder_act', 'dropout', 'wd')


def main():
    from d2lrec.lab.threads import use_all_cores
    use_all_cores()
    from d2lrec.lab.config import TUNED
    from d2lrec.data import read_data_ml100k
    from d2lrec.lab.experiment import train_and_evaluate
    from d2lrec.lab.tune import START, coordinate_search
    data = read_data_ml100k()
    rows = []
    for protocol, split_mode, seed in PROTOCOLS:
        start = time.perf_counter()
        best, log = coordinate_search(start=dataclasses.replace(
            START, split_mode=split_mode, seed=seed), data=data)
        search_seconds = time.perf_counter() - start
        result = train_and_evaluate(best, data=data, plot=False,
                                    verbose=False, every_epoch=False)
        preset = dataclasses.replace(TUNED, split_mode=split_mode,
                                     seed=seed)
        rows.append({'protocol': protocol,
                     **{name: getattr(best, name) for name in SEARCHED},
                     'is_preset': best == preset,
                     'validation_rmse': log['validation RMSE'][
                         log['chosen']].iloc[-1],
                     'test_rmse': result['test_rmse'],
                     'seconds': result['seconds'],
                     'search_seconds': search_seconds})
        print(rows[-1], file=sys.stderr, flush=True)
    write_csv(rows, 'retune.csv')


if __name__ == '__main__':
    main()

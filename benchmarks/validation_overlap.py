"""How much of each test set the tuning's validation split holds.

`d2lrec.tune.coordinate_search` chose ``--preset tuned`` on one
validation split: 10% of the training ratings of the seed-0 random 90/10
split (``train_and_evaluate(validation=True)``).  That split is disjoint
from the seed-0 test set, but not from the test sets of the other
protocols the preset is compared on (benchmarks/peers.py's): each
fold's ``u{k}.test`` and the random splits with seeds 1-4.  This counts
the shared ratings and writes them to
benchmarks/results/validation_overlap.csv (docs/results.md states
them).  No training: it runs in seconds.

    D2LREC_DATA_DIR=../shared/data python benchmarks/validation_overlap.py
"""
import csv
import pathlib

from d2lrec.config import Config
from d2lrec.data import read_data_ml100k, split_data_ml100k
from d2lrec.experiment import VALIDATION_SEED_OFFSET
from peers import PROTOCOLS

RESULTS = pathlib.Path(__file__).parent / 'results'
OUT = RESULTS / 'validation_overlap.csv'

def main():
    data, num_users, num_items = read_data_ml100k()
    ratio = Config.test_ratio
    train, _ = split_data_ml100k(data, num_users, num_items, 'random',
                                 ratio, 0)
    _, valid = split_data_ml100k(train, num_users, num_items, 'random',
                                 ratio, VALIDATION_SEED_OFFSET)
    rows = []
    for protocol, split_mode, seed in PROTOCOLS:
        _, test = split_data_ml100k(data, num_users, num_items, split_mode,
                                    ratio, seed)
        shared = len(valid.index.intersection(test.index))
        rows.append({'protocol': protocol,
                     'test_ratings': len(test),
                     'validation_ratings': len(valid),
                     'shared': shared})
        print(f'{rows[-1]["protocol"]:>7}: {shared:5d} of its {len(test)} '
              f'test ratings are among the {len(valid)} validation ratings')
    RESULTS.mkdir(exist_ok=True)
    with open(OUT, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == '__main__':
    main()

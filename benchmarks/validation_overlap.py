"""How much of each test set the presets' validation splits hold.

`d2lrec.lab.tune.coordinate_search` chose ``--preset tuned`` on one
validation split: 10% of the training ratings of the seed-0 random 90/10
split (``train_and_evaluate(validation=True)``).  ``--preset blend``'s
members were chosen on u1's, 10% of u1.base (benchmarks/how_far.py).
Each is disjoint from its own protocol's test set, but not from the
test sets of the other protocols the presets are compared on
(benchmarks/peers.py's): the folds' ``u{k}.test`` and the random splits
with seeds 0-4.  This counts the shared ratings and writes them to
d2lrec/results/validation_overlap.csv, a row per validation split and
protocol (docs/results.md states them).  No training: it runs in
seconds.

    D2LREC_DATA_DIR=../shared/data python benchmarks/validation_overlap.py
"""
from d2lrec.lab.config import Config
from d2lrec.data import read_data_ml100k, split_data_ml100k
from d2lrec.lab.experiment import VALIDATION_SEED_OFFSET
from peers import PROTOCOLS
from tables import write_csv

#: The validation splits, by the protocol they are carved from.
VALIDATION = {'seed 0': ('random', 0), 'u1': ('u1', 0)}


def main():
    data, num_users, num_items = read_data_ml100k()
    ratio = Config.test_ratio
    rows = []
    for name, (split_mode, seed) in VALIDATION.items():
        train, _ = split_data_ml100k(data, num_users, num_items, split_mode,
                                     ratio, seed)
        _, valid = split_data_ml100k(train, num_users, num_items, 'random',
                                     ratio, seed + VALIDATION_SEED_OFFSET)
        for protocol, split_mode, seed in PROTOCOLS:
            _, test = split_data_ml100k(data, num_users, num_items,
                                        split_mode, ratio, seed)
            shared = len(valid.index.intersection(test.index))
            rows.append({'validation': name, 'protocol': protocol,
                         'test_ratings': len(test),
                         'validation_ratings': len(valid),
                         'shared': shared})
            print(f'{name:>7} validation, {protocol:>7}: {shared:5d} of '
                  f'its {len(test)} test ratings are among the '
                  f'{len(valid)} validation ratings')
    write_csv(rows, 'validation_overlap.csv')


if __name__ == '__main__':
    main()

"""AutoRec (D2L §16.4) beside the classic peers readers would use, on
the same splits of MovieLens 100K, in one run.

The peers are Surprise's BaselineOnly, SVD, SVD++ and KNNBaseline at
their default settings (scikit-surprise 1.1.5; SVD and SVD++ seeded with
``random_state=0``).  d2lrec runs the chapter's settings and
``--preset tuned``.  Every method trains on the same ten protocols:

- the canonical folds u1-u5 (train ``u{k}.base``, test ``u{k}.test``),
  d2lrec with seed 0;
- d2lrec's random 90/10 splits with seeds 0-4
  (``RandomState(seed).uniform(0, 1, n) < 0.9``), d2lrec with that seed.

d2lrec makes every split (`d2lrec.data.split_data_ml100k`) and writes
it to a temporary folder; Surprise, which needs a newer numpy than the
book's stack, fits them in its own venv (.venv-peers,
benchmarks/requirements-peers.txt): ``make peers`` makes it and runs
this.  Each row of d2lrec/results/peers.csv is one fit: its test
RMSE and the wall seconds of fitting and testing it (d2lrec on every
core, Surprise on one).  docs/results.md shows them, and
tests/test_results.py keeps its table equal to the file.

    D2LREC_DATA_DIR=../shared/data python benchmarks/peers.py \
        --peers-python .venv-peers/bin/python
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

from tables import write_csv

#: Surprise's algorithms, by the name the results give them.
SURPRISE = ('BaselineOnly', 'SVD', 'SVD++', 'KNNBaseline')

#: The d2lrec rows: the chapter's settings and the tuned preset.
CHAPTER_ROW = "d2lrec, the chapter's settings"
TUNED_ROW = 'd2lrec, --preset tuned'

#: The ten protocols, as (name, split mode, seed).
PROTOCOLS = ([(f'u{k}', f'u{k}', 0) for k in range(1, 6)]
             + [(f'seed {seed}', 'random', seed) for seed in range(5)])


def surprise_algorithm(name):
    """Surprise's algorithm `name` at its defaults (quiet, seeded)."""
    import surprise
    if name == 'SVD':
        return surprise.SVD(random_state=0)
    if name == 'SVD++':
        return surprise.SVDpp(random_state=0)
    return getattr(surprise, name)(verbose=False)


def surprise_runs(folder):
    """In the peers' venv: fit every Surprise algorithm on every split in
    `folder`; print one JSON row per fit."""
    from surprise import Dataset, Reader, accuracy
    reader = Reader(line_format='user item rating', sep='\t',
                    rating_scale=(1, 5))
    for name in SURPRISE:
        for protocol, _, _ in PROTOCOLS:
            train = Dataset.load_from_file(
                split_path(folder, protocol, 'train'), reader)
            with open(split_path(folder, protocol, 'test')) as f:
                test = [(u, i, float(r)) for u, i, r in
                        (line.split('\t') for line in f)]
            start = time.perf_counter()
            algorithm = surprise_algorithm(name)
            algorithm.fit(train.build_full_trainset())
            rmse = accuracy.rmse(algorithm.test(test), verbose=False)
            row = json.dumps({'method': name, 'protocol': protocol,
                              'test_rmse': rmse,
                              'seconds': time.perf_counter() - start})
            print(row, flush=True)
            print(row, file=sys.stderr, flush=True)  # progress


def write_splits(data, folder):
    """Write every protocol's training and test ratings to `folder`, as
    d2lrec splits them: one ``user item rating`` line per rating."""
    from d2lrec.data import split_data_ml100k
    df, num_users, num_items = data
    for protocol, split_mode, seed in PROTOCOLS:
        for part, ratings in zip(('train', 'test'), split_data_ml100k(
                df, num_users, num_items, split_mode, seed=seed)):
            ratings[['user_id', 'item_id', 'rating']].to_csv(
                split_path(folder, protocol, part), sep='\t', header=False,
                index=False)


def split_path(folder, protocol, part):
    """Where `write_splits` puts `protocol`'s `part` (train or test)."""
    return pathlib.Path(folder, f'{protocol.replace(" ", "")}.{part}')


def d2lrec_runs(data):
    """Train and test the chapter's settings and the tuned preset on
    every protocol; return their rows."""
    from dataclasses import replace

    from d2lrec.lab.config import TUNED, Config
    from d2lrec.lab.experiment import train_and_evaluate
    rows = []
    for method, config in ((CHAPTER_ROW, Config()), (TUNED_ROW, TUNED)):
        for protocol, split_mode, seed in PROTOCOLS:
            result = train_and_evaluate(
                replace(config, split_mode=split_mode, seed=seed),
                data=data, plot=False, verbose=False, every_epoch=False)
            rows.append({'method': method, 'protocol': protocol,
                         'test_rmse': result['test_rmse'],
                         'seconds': result['seconds']})
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--peers-python', default='.venv-peers/bin/python',
                        help="the peers' venv's python (with Surprise)")
    parser.add_argument('--surprise', metavar='FOLDER',
                        help=argparse.SUPPRESS)  # the peers' side
    args = parser.parse_args()
    if args.surprise:
        surprise_runs(args.surprise)
        return
    from d2lrec.lab.threads import use_all_cores
    use_all_cores()
    from d2lrec.data import read_data_ml100k
    data = read_data_ml100k()
    with tempfile.TemporaryDirectory() as folder:
        write_splits(data, folder)
        peers = subprocess.run(
            [args.peers_python, __file__, '--surprise', folder],
            check=True, stdout=subprocess.PIPE, text=True)
    rows = [json.loads(line) for line in peers.stdout.splitlines()]
    rows += d2lrec_runs(data)
    write_csv(rows, 'peers.csv')


if __name__ == '__main__':
    main()

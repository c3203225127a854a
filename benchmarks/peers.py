"""AutoRec (D2L §16.4) beside the classic peers readers would use, on
the same splits and validation carves of MovieLens 100K, in one run.

The protocols are those of d2lrec's blend results
(benchmarks/how_far.py): the fold u1 with seeds 0, 1 and 2, the folds
u2-u5 with seed 0, and d2lrec's random 90/10 splits with seeds 0-4.
d2lrec makes each protocol's four parts (`d2lrec.lab.experiment.split`):
its training and test sets, the rest of that training set and the
validation split carved from it, and writes them to a temporary
folder.

The peers are Surprise's (scikit-surprise 1.1.5) BaselineOnly, SVD,
SVD++ and KNNBaseline.  Each runs at its defaults (SVD and SVD++ with
``random_state=seed``), and SVD, SVD++ and KNNBaseline are also tuned:
every setting of its grid in `GRIDS` is fitted on the training set
less the validation split and scored on the validation split; the best
is fitted again on the whole training set and tested once.  The grids
were written after the results at the defaults had been seen, and
after a few fits scored on the validation split of the seed-0 random
split.  Each grid holds its peer's defaults; SVD++'s is small because
its fits are slow.  d2lrec runs the chapter's settings and ``--preset
tuned``.

Surprise, which needs a newer numpy than the book's stack, runs in its
own venv (.venv-peers, benchmarks/requirements-peers.txt): ``make
peers`` makes it and runs this.  Each row of d2lrec/results/peers.csv
is one test: its method, protocol, seed, test RMSE and the wall seconds
of the fit and its test (d2lrec on every core, Surprise on one; a tuned
peer's final fit only).  d2lrec/results/peers_search.csv has every
setting a search tried, with its validation RMSE and seconds.
docs/results.md shows them, and tests/test_results.py keeps its table
equal to peers.csv.  About 36 minutes, most of it the searches, on a
machine whose two cores other work shared.

    D2LREC_DATA_DIR=../shared/data nice python benchmarks/peers.py \
        --peers-python .venv-peers/bin/python
"""
import argparse
import itertools
import json
import pathlib
import subprocess
import sys
import tempfile
import time

from tables import write_csv

#: Surprise's algorithms run at their defaults.
DEFAULTS = ('BaselineOnly', 'SVD', 'SVD++', 'KNNBaseline')

#: The grids of the tuned peers: each setting's options.  KNNBaseline's
#: ``name`` and ``user_based`` go into its ``sim_options``.
GRIDS = {
    'SVD': {'n_factors': (50, 100, 200), 'n_epochs': (20, 40),
            'lr_all': (0.005, 0.01), 'reg_all': (0.02, 0.05, 0.1)},
    'SVD++': {'n_factors': (20,), 'n_epochs': (20,),
              'lr_all': (0.007, 0.01), 'reg_all': (0.02, 0.05)},
    'KNNBaseline': {'k': (20, 40, 80),
                    'name': ('pearson_baseline', 'msd'),
                    'user_based': (True, False)},
}

#: The d2lrec rows: the chapter's settings and the tuned preset.
CHAPTER_ROW = "d2lrec, the chapter's settings"
TUNED_ROW = 'd2lrec, --preset tuned'

#: (name, split mode, seed) of every protocol.
PROTOCOLS = ([('u1', 'u1', seed) for seed in range(3)]
             + [(f'u{k}', f'u{k}', 0) for k in range(2, 6)]
             + [('random', 'random', seed) for seed in range(5)])

#: The parts of a protocol written for Surprise: its training and test
#: sets, then its training set less the validation split, and that.
PARTS = ('train', 'test', 'subtrain', 'validation')


def surprise_algorithm(name, seed, settings=None):
    """Surprise's algorithm `name` with `settings` (its defaults if
    None), quiet, SVD and SVD++ seeded with `seed`."""
    import surprise
    settings = dict(settings or {})
    if name in ('SVD', 'SVD++'):
        settings['random_state'] = seed
    if name == 'KNNBaseline':
        settings['sim_options'] = {
            key: settings.pop(key) for key in ('name', 'user_based')
            if key in settings}
    algorithm = {'SVD++': 'SVDpp'}.get(name, name)
    return getattr(surprise, algorithm)(verbose=False, **settings)


def settings_grid(grid):
    """Every setting of `grid` (option: values), in order, as dicts."""
    return [dict(zip(grid, values))
            for values in itertools.product(*grid.values())]


def short(settings):
    """`settings` as a short string: ``k=20 name=msd``."""
    return ' '.join(f'{key}={value}' for key, value in settings.items())


def fit_and_score(algorithm, train, test):
    """Fit `algorithm` on `train` and score it on `test`; return the
    RMSE and the wall seconds of both."""
    from surprise import accuracy
    start = time.perf_counter()
    algorithm.fit(train)
    rmse = accuracy.rmse(algorithm.test(test), verbose=False)
    return rmse, time.perf_counter() - start


def read_parts(folder, protocol, seed):
    """`protocol`'s parts from `folder`: its training sets as Surprise
    trainsets, its test and validation sets as rating triples."""
    from surprise import Dataset, Reader
    reader = Reader(line_format='user item rating', sep='\t',
                    rating_scale=(1, 5))
    parts = {}
    for part in PARTS:
        path = split_path(folder, protocol, seed, part)
        if part in ('train', 'subtrain'):
            parts[part] = Dataset.load_from_file(
                path, reader).build_full_trainset()
        else:
            with open(path) as f:
                parts[part] = [(u, i, float(r)) for u, i, r in
                               (line.split('\t') for line in f)]
    return parts


def tuned(name, protocol, seed, parts):
    """Search `name`'s grid on `protocol`'s validation split, then fit
    the best setting on the whole training set and test it; emit a row
    per setting tried and the test's."""
    grid = settings_grid(GRIDS[name])
    candidates = []
    for settings in grid:
        rmse, seconds = fit_and_score(
            surprise_algorithm(name, seed, settings), parts['subtrain'],
            parts['validation'])
        candidates.append({'method': name, 'protocol': protocol,
                           'seed': seed, 'params': short(settings),
                           'validation_rmse': rmse, 'seconds': seconds,
                           'chosen': False})
    best = min(range(len(grid)),
               key=lambda c: candidates[c]['validation_rmse'])
    candidates[best]['chosen'] = True
    for candidate in candidates:
        emit('search', candidate)
    emit('peers', test_row(f'{name}, tuned', protocol, seed,
                           surprise_algorithm(name, seed, grid[best]),
                           parts))


def test_row(method, protocol, seed, algorithm, parts):
    """Fit `algorithm` on the training set, test it; return the row."""
    rmse, seconds = fit_and_score(algorithm, parts['train'],
                                  parts['test'])
    return {'method': method, 'protocol': protocol, 'seed': seed,
            'test_rmse': rmse, 'seconds': seconds}


def emit(table, row):
    """Print `row` of `table` ('peers' or 'search') as one JSON line,
    and as progress to stderr."""
    line = json.dumps({'table': table, **row})
    print(line, flush=True)
    print(line, file=sys.stderr, flush=True)


def surprise_runs(folder):
    """In the peers' venv: run every peer on every protocol in
    `folder`, at its defaults and tuned."""
    parts = {(protocol, seed): read_parts(folder, protocol, seed)
             for protocol, _, seed in PROTOCOLS}
    for name in DEFAULTS:
        for (protocol, seed), its_parts in parts.items():
            emit('peers', test_row(f'{name}, defaults', protocol, seed,
                                   surprise_algorithm(name, seed),
                                   its_parts))
    for name in GRIDS:
        for (protocol, seed), its_parts in parts.items():
            tuned(name, protocol, seed, its_parts)


def write_splits(data, folder):
    """Write every protocol's `PARTS` to `folder`, as d2lrec splits
    them: one ``user item rating`` line per rating."""
    from d2lrec.lab.config import Config
    from d2lrec.lab.experiment import split
    for protocol, split_mode, seed in PROTOCOLS:
        config = Config(split_mode=split_mode, seed=seed)
        for part, ratings in zip(PARTS, split(config, data)
                                 + split(config, data, validation=True)):
            ratings[['user_id', 'item_id', 'rating']].to_csv(
                split_path(folder, protocol, seed, part), sep='\t',
                header=False, index=False)


def split_path(folder, protocol, seed, part):
    """Where `write_splits` puts `part` of `protocol` with `seed`."""
    return pathlib.Path(folder, f'{protocol}-{seed}.{part}')


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
                         'seed': seed, 'test_rmse': result['test_rmse'],
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
    tables = {'peers': [], 'search': []}
    for line in peers.stdout.splitlines():
        row = json.loads(line)
        tables[row.pop('table')].append(row)
    write_csv(tables['peers'] + d2lrec_runs(data), 'peers.csv')
    write_csv(tables['search'], 'peers_search.csv')


if __name__ == '__main__':
    main()

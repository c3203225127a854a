"""docs/results.md against the committed benchmark results: the peers
table (benchmarks/peers.py), the tuned preset re-chosen per protocol
(benchmarks/retune.py) and the tuning's overlap with the test sets
(benchmarks/validation_overlap.py).  Only files are read: no training,
no data."""
import csv
import pathlib
import re
import statistics

ROOT = pathlib.Path(__file__).parents[1]
RESULTS = ROOT / 'd2lrec' / 'results'
DOC = ROOT / 'docs' / 'results.md'

#: The row of docs/results.md's peers table for benchmarks/retune.py.
RETUNED = 'd2lrec, tuned, re-chosen per protocol'

FOLDS = [f'u{k}' for k in range(1, 6)]
SEEDS = [f'seed {seed}' for seed in range(5)]


def read(name):
    with open(RESULTS / name, newline='') as f:
        return list(csv.DictReader(f))


def tables(text):
    """Every Markdown table of `text`: a list of rows, each a list of
    its cells without Markdown emphasis, the header row first."""
    found, rows = [], []
    for line in text.splitlines() + ['']:
        if line.startswith('|'):
            cells = [re.sub(r'[*`]', '', cell).strip()
                     for cell in line.strip().strip('|').split('|')]
            if not all(set(cell) <= set('-: ') for cell in cells):
                rows.append(cells)
        elif rows:
            found.append(rows)
            rows = []
    return found


def table(header):
    """The table of docs/results.md whose first cell is `header`."""
    matches = [t for t in tables(DOC.read_text()) if t[0][0] == header]
    assert len(matches) == 1, f'one table headed {header!r} in {DOC.name}'
    return matches[0]


def summary(fits):
    """A peers row's cells from `fits` (protocol: (RMSE, seconds)): u1,
    the u1-u5 mean, the random splits' mean and std, seconds per fit."""
    folds = [fits[p][0] for p in FOLDS]
    seeds = [fits[p][0] for p in SEEDS]
    seconds = statistics.mean(fits[p][1] for p in FOLDS + SEEDS)
    return [f'{fits["u1"][0]:.4f}', f'{statistics.mean(folds):.4f}',
            f'{statistics.mean(seeds):.4f} ± {statistics.stdev(seeds):.4f}',
            f'{seconds:.1f}']


def expected_peers():
    methods = {}
    for row in read('peers.csv'):
        methods.setdefault(row['method'], {})[row['protocol']] = (
            float(row['test_rmse']), float(row['seconds']))
    rows = {method: summary(fits) for method, fits in methods.items()}
    # its fits ran beside other work: the time is not comparable
    rows[RETUNED] = summary({row['protocol']: (float(row['test_rmse']), 0)
                             for row in read('retune.csv')})[:-1] + ['–']
    return rows


def test_the_peers_table_is_the_committed_results():
    rows = table('method')
    assert rows[0] == ['method', 'u1', 'u1–u5 mean',
                       'random 90/10, seeds 0–4', 'seconds per fit']
    assert {row[0]: row[1:] for row in rows[1:]} == expected_peers()


def test_the_retuned_table_is_the_committed_results():
    rows = table('protocol')
    expected = [[row['protocol'], row['num_epochs'],
                 row['hidden_layers'].strip('(),'),
                 row['decoder_act'], row['dropout'], row['wd'],
                 'yes' if row['is_preset'] == 'True' else 'no',
                 f'{float(row["validation_rmse"]):.4f}',
                 f'{float(row["test_rmse"]):.4f}']
                for row in read('retune.csv')]
    assert rows[1:] == expected


def overlaps(validation):
    """validation_overlap.csv's rows of one validation split, by
    protocol."""
    return {row['protocol']: row for row in read('validation_overlap.csv')
            if row['validation'] == validation}


def test_the_overlaps_stated_are_the_measured_ones():
    rows = overlaps('seed 0')
    text = ' '.join(DOC.read_text().split())

    def span(protocols, column):
        values = sorted(int(rows[p][column]) for p in protocols)
        return f'{values[0]:,}–{values[-1]:,}'
    assert rows['seed 0']['shared'] == '0'
    assert f'{int(rows["u1"]["validation_ratings"]):,} ratings' in text
    assert (f'{span(FOLDS, "shared")} of the '
            f'{int(rows["u1"]["test_ratings"]):,} ratings of each '
            f'u{{k}}.test' in text.replace('`', ''))
    assert (f'{span(SEEDS[1:], "shared")} of the '
            f'{span(SEEDS[1:], "test_ratings")} ratings of each of the '
            f'seed 1–4 test sets' in text)


def ladder():
    """docs/results.md's steps table from how_far.csv, computed here
    without pandas: per step, the mean test RMSE on u1 over its seeds, on
    the folds with seed 0, and on the random splits with their std, and
    the mean seconds per fold."""
    steps = {}
    for row in read('how_far.csv'):
        steps.setdefault(row['step'], []).append(row)
    rows = []
    for step, runs in steps.items():
        def rmse(keep):
            return [float(r['test_rmse']) for r in runs if keep(r)]
        u1 = rmse(lambda r: r['protocol'] == 'u1')
        folds = rmse(lambda r: r['protocol'] in FOLDS and r['seed'] == '0')
        random = rmse(lambda r: r['protocol'] == 'random')
        assert (len(u1), len(folds), len(random)) == (3, 5, 5)
        seconds = statistics.mean(float(r['seconds']) for r in runs)
        rows.append([step, f'{statistics.mean(u1):.4f}',
                     f'{statistics.mean(folds):.4f}',
                     f'{statistics.mean(random):.4f} ± '
                     f'{statistics.stdev(random):.4f}', f'{seconds:.0f}'])
    return rows


def test_the_steps_table_is_the_committed_results():
    rows = table('step')
    assert rows[0] == ['step', 'u1, seeds 0–2', 'u1–u5', 'random 90/10, '
                       'seeds 0–4', 'seconds per fold']
    assert rows[1:] == ladder()


def test_the_routes_table_is_the_committed_results():
    rows = table('route')
    assert rows[0] == ['route', 'validation RMSE, u1', 'seconds']
    assert rows[1:] == [[row['route'], f'{float(row["validation_rmse"]):.4f}',
                         f'{float(row["seconds"]):.0f}']
                        for row in read('how_far_routes.csv')]


def test_the_goals_stated_are_the_best_steps():
    best = {row[0]: row[1:] for row in ladder()}[
        '--preset blend, 2 nets each']
    u1, folds, random = best[0], best[1], best[2].split(' ± ')[0]
    text = ' '.join(DOC.read_text().split())
    for goal, reached in (('0.889', u1), ('0.885', folds),
                          ('0.870', random)):
        assert f'{reached} (goal {goal})' in text


def test_the_blends_overlaps_stated_are_the_measured_ones():
    rows = overlaps('u1')
    text = ' '.join(DOC.read_text().split()).replace('`', '')

    def span(protocols):
        values = sorted(int(rows[p]['shared']) for p in protocols)
        return f'{values[0]:,}–{values[-1]:,}'
    assert rows['u1']['shared'] == '0'
    assert (f"u1's validation split, {int(rows['u1']['validation_ratings']):,}"
            f' ratings' in text)
    assert f'{span(FOLDS[1:])} of each of u2.test–u5.test' in text
    assert f'{span(SEEDS)} of each random test set' in text

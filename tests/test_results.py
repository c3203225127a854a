"""docs/results.md against the committed benchmark results: the peers
table (benchmarks/peers.py), the tuned preset re-chosen per protocol
(benchmarks/retune.py) and the tuning's overlap with the test sets
(benchmarks/validation_overlap.py).  Only files are read: no training,
no data."""
import csv
import json
import pathlib
import re
import statistics

ROOT = pathlib.Path(__file__).parents[1]
RESULTS = ROOT / 'd2lrec' / 'results'
DOC = ROOT / 'docs' / 'results.md'

#: The row of docs/results.md's peers table for benchmarks/retune.py.
RETUNED = 'd2lrec, tuned, re-chosen per protocol'

#: peers.csv's rows of d2lrec (benchmarks/peers.py).
CHAPTER_ROW = "d2lrec, the chapter's settings"
TUNED_ROW = 'd2lrec, --preset tuned'

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


def spread(values):
    """The mean ± std of `values`, as the tables write them."""
    return f'{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}'


def rmses(runs):
    """The test RMSEs of `runs`, one method's rows of peers.csv or
    how_far.csv: on u1 over its seeds, on the folds with seed 0 and on
    the random splits."""
    def rmse(keep):
        return [float(r['test_rmse']) for r in runs if keep(r)]
    u1 = rmse(lambda r: r['protocol'] == 'u1')
    folds = rmse(lambda r: r['protocol'] in FOLDS and r['seed'] == '0')
    random = rmse(lambda r: r['protocol'] == 'random')
    assert (len(u1), len(folds), len(random)) == (3, 5, 5)
    return u1, folds, random


def peer_cells(runs):
    """A peers row's cells from `runs`, peers.csv's rows of one method:
    u1 over seeds 0-2, the u1-u5 mean with seed 0, the random splits
    over seeds 0-4, and the mean seconds per fit."""
    u1, folds, random = rmses(runs)
    seconds = statistics.mean(float(r['seconds']) for r in runs)
    return [spread(u1), f'{statistics.mean(folds):.4f}', spread(random),
            f'{seconds:.1f}']


def retuned_cells():
    """The re-chosen row's cells from retune.csv, which has seed 0 only
    on u1; its fits ran beside other work, so its time is left out."""
    rmse = {row['protocol']: float(row['test_rmse'])
            for row in read('retune.csv')}
    return [f'{rmse["u1"]:.4f} (seed 0)',
            f'{statistics.mean(rmse[p] for p in FOLDS):.4f}',
            spread([rmse[p] for p in SEEDS]), '–']


def expected_peers():
    methods = {}
    for row in read('peers.csv'):
        methods.setdefault(row['method'], []).append(row)
    rows = {method: peer_cells(runs) for method, runs in methods.items()}
    rows[RETUNED] = retuned_cells()
    return rows


def test_the_peers_table_is_the_committed_results():
    rows = table('method')
    assert rows[0] == ['method', 'u1, seeds 0–2', 'u1–u5, seed 0',
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
    """docs/results.md's steps table from how_far.csv: per step, the test
    RMSE on u1 over its seeds, the folds' mean with seed 0, the random
    splits over their seeds, and the mean seconds per fold."""
    steps = {}
    for row in read('how_far.csv'):
        steps.setdefault(row['step'], []).append(row)
    rows = []
    for step, runs in steps.items():
        u1, folds, random = rmses(runs)
        seconds = statistics.mean(float(r['seconds']) for r in runs)
        rows.append([step, spread(u1), f'{statistics.mean(folds):.4f}',
                     spread(random), f'{seconds:.0f}'])
    return rows


def test_the_steps_table_is_the_committed_results():
    rows = table('step')
    assert rows[0] == ['step', 'u1, seeds 0–2', 'u1–u5, members chosen on u1',
                       'random 90/10, seeds 0–4, members chosen on u1',
                       'seconds per fold']
    assert rows[1:] == ladder()


def test_the_readmes_blend_rows_are_the_committed_results():
    runs = [row for row in read('how_far.csv')
            if row['step'] == '--preset blend']
    u1, _, random = rmses(runs)
    seconds = statistics.mean(float(r['seconds']) for r in runs)
    text = (ROOT / 'README.md').read_text()
    assert (f'| the fold u1 | {spread(u1)} | {seconds:.0f} s, beside other '
            f'work |' in text)
    assert f'members chosen on u1 | per seed | {spread(random)} |' in text


def test_the_two_benchmarks_agree_on_the_runs_they_share():
    """The chapter's settings and --preset tuned, trained by
    benchmarks/peers.py and again by benchmarks/how_far.py: the same test
    RMSEs, bit for bit."""
    def rmse_of(name, method):
        return {(row['protocol'], row['seed']): row['test_rmse']
                for row in read(name) if row[method[0]] == method[1]}
    for peers_row, step in ((CHAPTER_ROW, "the chapter's settings"),
                            (TUNED_ROW, '--preset tuned')):
        assert (rmse_of('peers.csv', ('method', peers_row))
                == rmse_of('how_far.csv', ('step', step)))


def test_the_blend_preset_is_what_its_search_chose():
    """benchmarks/derive_blend.py's log read back: the members it chose,
    in order, with their settings, and the nets are BLEND's."""
    from d2lrec.lab.config import BLEND, Config, Preset
    rows = [row for row in read('blend_search.csv') if row['chosen'] == 'True']
    members = tuple((row['name'], Config(**json.loads(row['settings'])))
                    for row in rows if row['step'] == 'members')
    nets = [int(row['name'].split()[0]) for row in rows
            if row['step'] == 'nets']
    assert Preset(members, *nets) == BLEND


def test_the_selection_table_is_the_search_log():
    rows = table('selection step')
    steps = {}
    for row in read('blend_search.csv'):
        if row['step'] == 'members':
            steps.setdefault(row['stage'], []).append(row)
    expected = []
    for stage, candidates in steps.items():
        best = min(candidates, key=lambda r: float(r['validation_rmse']))
        expected.append([stage.split()[-1], best['name'],
                         f'{float(best["validation_rmse"]):.4f}',
                         'yes' if best['chosen'] == 'True' else
                         'no: gains under 0.0002'])
    assert rows[1:] == expected


def test_the_goals_stated_are_the_blends_results():
    runs = [row for row in read('how_far.csv')
            if row['step'] == '--preset blend']
    text = ' '.join(DOC.read_text().split())
    for goal, reached in zip(('0.885', '0.878', '0.865'), rmses(runs)):
        assert f'{statistics.mean(reached):.4f} (goal {goal})' in text


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


def test_the_routes_table_is_the_committed_results():
    """benchmarks/routes.py's candidates, as docs/results.md shows them."""
    def cell(value, digits=4):
        return f'{float(value):.{digits}f}' if value else ''
    expected = [[row['candidate'], row['nets'], cell(row['alone_rmse']),
                 cell(row['blend_rmse']), cell(row['gain']),
                 cell(row['seconds_per_net'], 0)]
                for row in read('routes.csv')]
    assert table('added to the five members')[1:] == expected


def test_the_routes_gains_stated_are_the_committed_results():
    """The gains docs/results.md and notebook 06's goals state: side
    information's over its control, and the GLocal-K-style member's."""
    rows = {(row['candidate'], row['nets']): float(row['gain'])
            for row in read('routes.csv')}
    side = (rows['I-AutoRec, tuned, genres as inputs', '2']
            - rows['I-AutoRec, tuned, control', '2'])
    glocal = rows['GLocal-K-style', '2']
    notebook = json.loads((ROOT / 'notebooks'
                           / '06-how-far-can-autorec-go.ipynb').read_text())
    goals = [''.join(cell['source']) for cell in notebook['cells']
             if 'make routes' in ''.join(cell['source'])]
    for text in [DOC.read_text()] + goals:
        text = ' '.join(text.split())
        assert f'{side:.4f} over its control' in text or (
            f'{side:.4f} better than without it' in text)
        assert f'by {glocal:.4f}' in text or f'adds {glocal:.4f}' in text
    assert len(goals) == 1

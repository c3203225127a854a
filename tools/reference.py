"""d2lrec/lab/reference.csv, made from notebook 03's committed outputs (``make
reference`` runs this; d2lrec/lab/reference.py reads it): the test RMSEs of
03's tables for each setting that `d2lrec.lab.reference.reference_key`
names.  03's table cells are run again with a `compare` that only
records which `Config` each row is, and the numbers are read from the
cells' committed outputs.

Run it after editing notebook 03 or executing it again;
tests/test_reference.py checks that the file is up to date.
"""
import csv
import io
import pathlib
import re

import nbformat
import pandas as pd

from d2lrec.lab.config import Config
from d2lrec.lab.reference import FIELDS, NUMBERS, reference_key

ROOT = pathlib.Path(__file__).parents[1]
EXERCISES = ROOT / 'notebooks' / '03-autorec-exercises.ipynb'
REFERENCE = ROOT / 'd2lrec' / 'lab' / 'reference.csv'


def table_rows(cell):
    """The rows of numbers of the table a cell printed (text/plain)."""
    text = next(o for o in cell.outputs
                if o.output_type == 'execute_result').data['text/plain']
    header, *lines = text.splitlines()
    assert header.split() == ' '.join(NUMBERS).split(), header
    rows = [re.findall(r'-?\d+\.\d+', line) for line in lines]
    return [row for row in rows if len(row) == len(NUMBERS)]


def measured_runs(notebook):
    """(Config, its row of 03's numbers) for each row of 03's tables."""
    for cell in notebook.cells:
        if cell.cell_type != 'code' or 'compare(' not in cell.source:
            continue
        configs = []

        def compare(configurations, *args, **kwargs):
            configs.extend(configurations.values())
            return pd.DataFrame(index=pd.Index(list(configurations)))
        exec(cell.source, {'compare': compare, 'Config': Config,
                           'seeds': (0, 1, 2), 'data': None, 'rmse_of': {}})
        rows = table_rows(cell)
        assert len(rows) == len(configs), cell.source
        yield from zip(configs, rows)


def reference():
    """d2lrec/lab/reference.csv, as text: one line per setting."""
    rows = {}
    for config, numbers in measured_runs(nbformat.read(EXERCISES, 4)):
        key = reference_key(config)
        if key is None or config.model == 'mf':
            continue
        assert rows.setdefault(key, numbers) == numbers, key
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(FIELDS + NUMBERS)
    writer.writerows(key + tuple(numbers) for key, numbers in rows.items())
    return out.getvalue()


def main():
    REFERENCE.write_text(reference())
    print(f'wrote {REFERENCE.relative_to(ROOT)}')


if __name__ == '__main__':
    main()

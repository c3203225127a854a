"""The classroom files made from notebook 03, D2L §16.4's exercises
answered (``make classroom`` runs this; docs/classroom.md).

* notebooks/03-autorec-worksheet.ipynb, its student edition: 03's cells
  less those tagged ``answer`` (nbconvert's TagRemovePreprocessor), so
  the questions, the code and its committed tables and plots, without
  the answers and the summary; its title cell (tagged ``title``) is the
  worksheet's own.
* d2lrec/reference.csv, the test RMSEs of 03's tables for the settings
  that `d2lrec.playground` offers: 03's table cells are run again with a
  `compare` that only records which `Config` each row is, and the
  numbers are read from the cells' committed outputs.

Run it after editing notebook 03 or executing it again;
tests/test_classroom.py checks that both files are up to date.
"""
import csv
import io
import pathlib
import re

import nbformat
import pandas as pd
from nbconvert import NotebookExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from d2lrec.config import Config
from d2lrec.playground import FIELDS, NUMBERS, reference_key

ROOT = pathlib.Path(__file__).parents[1]
EXERCISES = ROOT / 'notebooks' / '03-autorec-exercises.ipynb'
WORKSHEET = ROOT / 'notebooks' / '03-autorec-worksheet.ipynb'
REFERENCE = ROOT / 'd2lrec' / 'reference.csv'

TITLE = """\
# AutoRec: the Exercises, a Worksheet (D2L §16.4)

{badge}

The student edition of `03-autorec-exercises.ipynb`: the same questions,
code, tables and plots, without the answers. Run it from the top (it
takes a few minutes), and after each table and plot write your answer to
the section's question in a new cell. Then compare with notebook 03.
Notebook 05, the playground, trains single settings at a press.

This file is made from notebook 03 by `make classroom`: edit that one."""


class WorksheetTitle(Preprocessor):
    """Give the cell tagged ``title`` the worksheet's title and a Colab
    badge that opens the worksheet."""

    def preprocess_cell(self, cell, resources, index):
        if 'title' in cell.metadata.get('tags', ()):
            badge = re.search(r'\[!\[Open In Colab\].*\)', cell.source)[0]
            cell.source = TITLE.format(badge=badge.replace(
                EXERCISES.name, WORKSHEET.name))
        return cell, resources


def worksheet():
    """The worksheet notebook, as text."""
    exporter = NotebookExporter()
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={'answer'}), enabled=True)
    exporter.register_preprocessor(WorksheetTitle(), enabled=True)
    text, _ = exporter.from_filename(str(EXERCISES))
    return text.rstrip('\n') + '\n'  # as nbformat.write ends a file


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
    """d2lrec/reference.csv, as text: one line per setting."""
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
    WORKSHEET.write_text(worksheet())
    REFERENCE.write_text(reference())
    print(f'wrote {WORKSHEET.relative_to(ROOT)} and '
          f'{REFERENCE.relative_to(ROOT)}')


if __name__ == '__main__':
    main()

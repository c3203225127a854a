"""The classroom files made from notebook 03 (tools/classroom.py, ``make
classroom``): the worksheet, 03 without its answers, and the
playground's reference numbers, both as 03 makes them now."""
import importlib.util
import pathlib

import nbformat
import pytest

pytest.importorskip('nbconvert', reason='the worksheet is made with it '
                    '(in .venv)')
ROOT = pathlib.Path(__file__).parents[1]
SPEC = importlib.util.spec_from_file_location(
    'classroom', ROOT / 'tools' / 'classroom.py')
classroom = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(classroom)


def cells(path):
    return nbformat.read(path, as_version=4).cells


def test_the_worksheet_is_notebook_03_made_again():
    assert classroom.worksheet() == classroom.WORKSHEET.read_text(), (
        'notebooks/03-autorec-worksheet.ipynb is not what notebook 03 '
        'makes now: run make classroom')


def test_the_reference_is_notebook_03s_tables():
    assert classroom.reference() == classroom.REFERENCE.read_text(), (
        'd2lrec/reference.csv is not what notebook 03 shows now: run '
        'make classroom')


def test_the_worksheet_has_03s_code_and_outputs_and_no_answers():
    exercises, worksheet = (cells(classroom.EXERCISES),
                            cells(classroom.WORKSHEET))
    code = [(c.source, c.outputs) for c in exercises
            if c.cell_type == 'code']
    assert code == [(c.source, c.outputs) for c in worksheet
                    if c.cell_type == 'code']
    kept = [c.source for c in exercises[1:] if c.cell_type == 'markdown'
            and 'answer' not in c.metadata.get('tags', ())]
    assert kept == [c.source for c in worksheet[1:]
                    if c.cell_type == 'markdown']
    text = '\n'.join(c.source for c in worksheet)
    assert '**Answer.**' not in text and '## Summary' not in text
    assert 'a Worksheet' in worksheet[0].source


def test_every_answer_of_03_is_tagged():
    """An answer added to notebook 03 without the tag would be in the
    worksheet."""
    for cell in cells(classroom.EXERCISES):
        if cell.source.startswith(('**Answer.**', '## Summary')):
            assert 'answer' in cell.metadata.get('tags', ()), cell.source

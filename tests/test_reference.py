"""d2lrec/lab/reference.csv and d2lrec.lab.reference: notebook 03's
measurements, as 03 shows them now (tools/reference.py, ``make reference``)."""
import importlib.util
import pathlib

from d2lrec.lab.config import Config
from d2lrec.lab.reference import measured, reference, reference_key, typical

ROOT = pathlib.Path(__file__).parents[1]
SPEC = importlib.util.spec_from_file_location(
    'make_reference', ROOT / 'tools' / 'reference.py')
make_reference = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(make_reference)


def test_the_reference_is_notebook_03s_tables():
    assert (make_reference.reference()
            == make_reference.REFERENCE.read_text()), (
        'd2lrec/lab/reference.csv is not what notebook 03 shows now: run '
        'make reference')


def test_reference_has_03s_settings_only():
    rows = reference()
    chapter = rows[reference_key(Config())]
    assert chapter['mean'] == 0.901 and chapter['seed 0'] == 0.908
    assert reference_key(Config(lr=0.001)) is None
    assert reference_key(Config(num_epochs=25)) == reference_key(Config())
    assert reference_key(Config(num_epochs=30)) not in rows
    assert measured(Config(model='uautorec'))['mean'] == 1.000
    assert measured(Config(lr=0.001)) is None


def test_typical_is_within_two_standard_deviations():
    chapter = measured(Config())  # 0.901 +- 0.008
    assert typical(0.901 + 0.0165, chapter)
    assert not typical(0.901 + 0.017, chapter)

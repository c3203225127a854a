"""d2lrec.lab.playground, the widgets of notebook 05, driven from Python as
its Train button drives them (tests/test_browser.py clicks them in a
real browser)."""
import subprocess
import sys

import pytest

pytest.importorskip('ipywidgets')
from d2lrec.lab.config import Config  # noqa: E402
from d2lrec.lab.experiment import train_and_evaluate  # noqa: E402
from d2lrec.lab.playground import Playground  # noqa: E402


def test_import_d2lrec_loads_no_widgets():
    out = subprocess.run(
        [sys.executable, '-c', 'import sys; from d2lrec import lab; '
         'lab.train_and_evaluate; print("ipywidgets" in sys.modules)'],
        capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == 'False', out.stderr


def test_a_setting_that_cant_work_says_why_and_does_not_train():
    playground = Playground(data=())  # no run may read it
    playground.epochs.value = 0
    assert playground.status.value == ("<b>Can't train:</b> num_epochs "
                                       'must be > 0, got 0')
    playground.button.click()
    assert playground.thread is None and playground.runs == []
    playground.epochs.value = 25
    assert playground.status.value.startswith('Press Train.')


def test_a_failed_run_says_why_in_one_line(ratings):
    playground = Playground(data=ratings)  # 40 items: no batch of 256
    playground.button.click()
    playground.wait()
    assert playground.status.value.startswith(
        '<b>The run failed:</b> ValueError: batch size 256 is larger')
    assert '\n' not in playground.status.value
    assert playground.runs == [] and not playground.button.disabled


@pytest.fixture(scope='module')
def data(real_data):
    from d2lrec.data import read_data_ml100k
    return read_data_ml100k()


def test_a_press_during_a_run_is_answered_not_queued(data):
    playground = Playground(data=data)
    playground.units.value, playground.epochs.value = 10, 2
    playground.button.click()
    assert playground.button.disabled
    playground.button.click()
    assert playground.status.value.startswith('A run is in progress')
    playground.wait()
    assert len(playground.runs) == 1 and not playground.button.disabled
    playground.button.click()
    playground.wait()
    assert len(playground.runs) == 2


def test_a_run_is_the_librarys_beside_03s_numbers(data):
    """10 hidden units, 25 epochs, seed 1: one of 03's settings."""
    playground = Playground(data=data)
    playground.units.value, playground.seed.value = 10, 1
    playground.button.click()
    playground.wait()
    config = Config(hidden_layers=(10,), num_epochs=25, seed=1)
    run = playground.results().iloc[0]
    expected = train_and_evaluate(config, data=data, plot=False,
                                  verbose=False)
    assert run['test RMSE'] == expected['test_rmse']
    assert (run['03, same seed'], run['03 mean'], run['03 std']) == (
        1.380, 1.380, 0.0)
    assert run['test RMSE'] == pytest.approx(1.380, abs=0.002)
    assert run['typical'] == 'yes'
    history = playground.runs[0][1]['history']
    assert [h['test_rmse'] for h in history] == [
        h['test_rmse'] for h in expected['history']]  # every epoch's

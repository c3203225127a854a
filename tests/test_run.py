"""One entry for a run (d2lrec.lab.run): `run_preset` runs a model's
preset as `train_and_evaluate` runs its config, and a blend as
`train_blend` runs it, on synthetic data; it refuses a setting that the
preset fixes; a preset says which settings a run may change."""
import dataclasses

import pytest

from d2lrec.data import read_data_ml100k
from d2lrec.lab.blend import train_blend
from d2lrec.lab.config import (BLEND, CHAPTER, PRESETS, SPLIT_SETTINGS,
                               TUNED, Config, Preset)
from d2lrec.lab.experiment import train_and_evaluate
from d2lrec.lab.run import run_preset

SMALL = Config(hidden_layers=(4,), num_epochs=2, batch_size=8)
MODEL = Preset((('I-AutoRec', SMALL),))
BLENDED = Preset((('I-AutoRec', SMALL),
                  ('MF', dataclasses.replace(SMALL, model='mf'))))


def test_a_models_preset_runs_as_its_config(synthetic_ml100k, capsys):
    data = read_data_ml100k(synthetic_ml100k[0])
    run = run_preset(MODEL, data=data, seed=3, dropout=0.2, verbose=False)
    config = dataclasses.replace(SMALL, seed=3, dropout=0.2)
    plain = train_and_evaluate(config, data=data, plot=False,
                               verbose=False)
    for key in ('train_loss', 'test_rmse'):
        assert ([epoch[key] for epoch in run['history']]
                == [epoch[key] for epoch in plain['history']])
    assert run.config == config and run.net is not None
    assert (run.num_users, run.num_items) == data[1:]
    assert capsys.readouterr().out == ''


def test_a_blends_preset_runs_as_train_blend(synthetic_ml100k, capsys):
    data = read_data_ml100k(synthetic_ml100k[0])
    run = run_preset(BLENDED, data=data, seed=1, test_ratio=0.2)
    out = capsys.readouterr().out
    assert out == f'blend: test RMSE {run["test_rmse"]:.4f}\n'
    again = train_blend(BLENDED, seed=1, test_ratio=0.2, data=data)
    for key in ('test_rmse', 'validation_rmse', 'weights'):
        assert run[key] == again[key]
    assert run['members'].keys() == again['members'].keys()


def test_a_blend_refuses_what_its_members_fix():
    with pytest.raises(ValueError, match='this preset fixes lr, num_epochs;'
                       ' it takes split_mode, test_ratio, seed'):
        run_preset(BLENDED, lr=0.1, num_epochs=3)


def test_what_a_run_may_change():
    every = {field.name for field in dataclasses.fields(Config)}
    assert set(MODEL.settings) == every and not MODEL.blended
    assert MODEL.config is SMALL
    assert BLENDED.settings == SPLIT_SETTINGS and BLENDED.blended
    assert BLENDED.config == Config()
    two_nets = Preset((('I-AutoRec', SMALL),), nets=2)
    assert two_nets.blended and two_nets.settings == SPLIT_SETTINGS
    assert PRESETS['tuned'].config is TUNED and PRESETS['blend'] is BLEND
    assert CHAPTER.config == Config() and not CHAPTER.blended

"""One experiment's settings as one value (d2lrec.lab.config): the
chapter's defaults, values checked with a clear message, and the
presets.  The command line made from its fields: test_cli.py."""
import dataclasses
import re

import pytest

from d2lrec.lab.config import BLEND, PRESETS, TUNED, Config, Preset


@pytest.mark.parametrize('setting, value, problem', [
    ('model', 'svd',
     re.escape("model must be one of ('autorec', 'uautorec', 'mf'), got "
               "'svd'")),
    ('hidden_layers', (), 'hidden_layers must be positive sizes'),
    ('hidden_layers', (4, 0), 'hidden_layers must be positive sizes'),
    ('hidden_layers', '500', 'hidden_layers must be a list of sizes'),
    ('encoder_act', 'gelu', 'encoder_act must be one of'),
    ('decoder_act', None, 'decoder_act must be one of'),
    ('num_factors', 0, 'num_factors must be > 0, got 0'),
    ('num_epochs', 2.5, 'num_epochs must be > 0, got 2.5'),
    ('lr', 0, 'lr must be > 0, got 0'),
    ('lr', float('nan'), 'lr must be > 0, got nan'),
    ('lr_schedule', 'step', "lr_schedule must be one of \\('cosine',\\)"),
    ('wd', -1e-5, 'wd must be >= 0'),
    ('batch_size', True, 'batch_size must be > 0, got True'),
    ('dropout', 1.0, r'dropout must be in \[0, 1\), got 1.0'),
    ('split_mode', 'u6', 'split_mode must be one of'),
    ('test_ratio', 1, r'test_ratio must be in \(0, 1\)'),
    ('clip', 'yes', "clip must be True or False, got 'yes'"),
    ('unseen_rating', 7, r'unseen_rating must be in \[1, 5\], got 7'),
    ('seed', 1.5, 'seed must be an integer, got 1.5'),
])
def test_a_bad_setting_says_which_and_what_is_allowed(setting, value,
                                                      problem):
    with pytest.raises(ValueError, match=problem):
        Config(**{setting: value})


def test_unknown_settings_are_refused():
    with pytest.raises(TypeError, match='colour'):
        Config(colour='red')


def test_values_are_normalized_and_configs_compare_and_hash():
    config = Config(hidden_layers=[500, 250, 500], unseen_rating=3)
    assert config.hidden_layers == (500, 250, 500)
    assert config == Config(hidden_layers=(500, 250, 500), unseen_rating=3)
    assert len({config, dataclasses.replace(config)}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = 1.0
    with pytest.raises(ValueError, match='lr must be'):
        dataclasses.replace(config, lr=-1)


def test_the_tuned_preset_differs_from_the_chapter_where_it_says():
    changed = {field.name for field in dataclasses.fields(Config)
               if getattr(TUNED, field.name) != getattr(Config(),
                                                        field.name)}
    assert changed == {'hidden_layers', 'decoder_act', 'num_epochs',
                       'lr_schedule', 'clip', 'unseen_rating'}
    assert PRESETS == {'tuned': Preset((('I-AutoRec', TUNED),)),
                       'blend': BLEND}

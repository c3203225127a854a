"""Notebook 03's measurements of D2L §16.4's exercises, as data: the test
RMSE of each setting it measured, per seed (0, 1, 2), and their mean and
sample standard deviation.  The playground (`d2lrec.lab.playground`) shows
them beside a run, and the classroom assignment (assignments/) grades a
student's runs against them.

``make reference`` writes `REFERENCE` from notebook 03's committed
outputs (tools/reference.py); tests/test_reference.py checks it is up
to date.
"""
import csv
import importlib.resources
import io

from d2lrec.lab.config import Config

#: The file, in the d2lrec.lab package.
REFERENCE = 'reference.csv'

#: The `Config` fields that name a measured setting; a run has a
#: reference when these match one of notebook 03's and the others are
#: the chapter's.
FIELDS = ('model', 'hidden_layers', 'encoder_act', 'decoder_act',
          'num_epochs')

#: The columns of `REFERENCE` after `FIELDS`: 03's table columns.
NUMBERS = ('seed 0', 'seed 1', 'seed 2', 'mean', 'std')

#: 03's tables are rounded to this many decimals.
DECIMALS = 3


def reference_key(config):
    """`config`'s row in `reference()`, or None where 03 measured nothing
    like it (settings other than `FIELDS` changed)."""
    settings = {name: getattr(config, name) for name in FIELDS}
    if Config(seed=config.seed, **settings) != config:
        return None
    return (config.model, '-'.join(map(str, config.hidden_layers)),
            config.encoder_act, config.decoder_act,
            config.budget.num_epochs)


def reference():
    """Notebook 03's test RMSEs, a dict from `reference_key` to a dict
    of its `NUMBERS` (mean and sample std over seeds 0, 1, 2)."""
    text = importlib.resources.files('d2lrec.lab').joinpath(REFERENCE)
    rows = {}
    for row in csv.DictReader(io.StringIO(text.read_text())):
        key = (row['model'], row['hidden_layers'], row['encoder_act'],
               row['decoder_act'], int(row['num_epochs']))
        rows[key] = {name: float(row[name]) for name in NUMBERS}
    return rows


def measured(config):
    """Notebook 03's numbers for `config`'s setting (a dict of
    `NUMBERS`), or None where it measured nothing like it."""
    return reference().get(reference_key(config))


def typical(rmse, measured):
    """Whether `rmse` is within two standard deviations of 03's mean (its
    numbers are rounded, hence half a unit of their last decimal)."""
    return (abs(rmse - measured['mean'])
            <= 2 * measured['std'] + 0.5 * 10 ** -DECIMALS)

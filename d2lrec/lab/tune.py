"""A tuned item-based AutoRec, chosen on a validation split (beyond
D2L §16.4).

`coordinate_search` tunes one group of settings at a time, starting from
the chapter's configuration: each stage tries its options with the best
settings found so far and keeps the one with the lowest validation RMSE.
The validation split is carved from the training set of `start`'s split
(``validation=True`` in `train_and_evaluate`), so that split's test set
is never used to choose; another split's test set may share ratings
with it.  Its result from `START`, on the seed-0 random 90/10 split, is
`d2lrec.lab.config.TUNED`, the ``--preset tuned`` of the command line
(benchmarks/retune.py runs it again on each protocol's own training set,
docs/results.md).
"""
import dataclasses

import pandas as pd

from d2lrec.lab.config import DEFAULT_EPOCHS, PROTOCOL, Config
from d2lrec.lab.sweep import train_many

#: The stages of the search and their options, in order.
SEARCH_SPACE = (
    ('training budget', (
        {'num_epochs': DEFAULT_EPOCHS['autorec'], 'lr': Config.lr,
         'lr_schedule': None},  # the chapter's
        {'num_epochs': 60, 'lr': Config.lr, 'lr_schedule': 'cosine'},
        {'num_epochs': 100, 'lr': 0.001, 'lr_schedule': 'cosine'})),
    ('hidden units', tuple({'hidden_layers': (size,)}
                           for size in (500, 1000, 1500))),
    ('decoder activation', tuple({'decoder_act': act}
                                 for act in ('identity', 'relu',
                                             'sigmoid'))),
    ('dropout', tuple({'dropout': p} for p in (0.05, 0.3, 0.5))),
    ('weight decay', tuple({'wd': wd} for wd in (1e-5, 3e-5, 1e-4))),
)

#: The chapter's settings, plus the protocol options of the tuned preset.
START = Config(num_epochs=DEFAULT_EPOCHS['autorec'], **PROTOCOL)


def coordinate_search(space=SEARCH_SPACE, start=START, data=None,
                      workers=None, score=None):
    """Return ``(best, log)``: the best `Config` found and a DataFrame
    with one row per stage and option (its validation RMSE).  Each
    stage's options are trained together by `train_many` (`workers`
    processes), each once; or `score`, a function from a list of
    configs to their validation RMSEs, scores them."""
    rmse_of, rows = {}, []
    score = score or (lambda configs: train_many(
        configs, data, validation=True, workers=workers,
        rmse_of=rmse_of))  # the incumbent: trained once
    best = start
    for stage, options in space:
        configs = [dataclasses.replace(best, **option) for option in options]
        scores = score(configs)
        chosen = scores.index(min(scores))
        for i, (option, rmse) in enumerate(zip(options, scores)):
            rows.append({'stage': stage, 'option': describe(option),
                         'validation RMSE': rmse, 'chosen': i == chosen})
        best = configs[chosen]
    return best, pd.DataFrame(rows).set_index(['stage', 'option'])


def describe(settings):
    """`settings`, a dict, as ``name=value, ...``."""
    return ', '.join(f'{k}={v}' for k, v in settings.items())

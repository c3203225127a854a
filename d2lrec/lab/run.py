"""One entry for a run of any preset (beyond D2L §16.4): `run_preset`.

A `d2lrec.lab.config.Preset` is one model (the chapter's settings, or
``--preset tuned``) or a blend of several (``--preset blend``).
``python -m d2lrec train`` runs each with `run_preset`, which returns
the `d2lrec.lab.experiment.Run` of `train_and_evaluate` or of
`d2lrec.lab.blend.train_blend`.
"""
import dataclasses

from d2lrec.lab.blend import train_blend
from d2lrec.lab.experiment import train_and_evaluate


def run_preset(preset, data=None, data_dir=None, devices=None,
               progress=None, verbose=True, **settings):
    """Train and test `preset` with `settings` (`Config` fields, of
    those ``preset.settings`` names) replacing its own; return a `Run`.

    A model's run holds its ``net`` and the ``config`` it was trained
    with, to save; a blend's its members' and weights (see
    `train_blend`).  `data` is the `d2lrec.data.Ratings` to reuse, else
    read from `data_dir`; `progress`, a file, gets a line per epoch or
    member, and with `verbose` the test RMSE is printed last.
    """
    fixed = sorted(set(settings) - set(preset.settings))
    if fixed:
        raise ValueError(f'this preset fixes {", ".join(fixed)}; it takes '
                         f'{", ".join(preset.settings)}')
    config = dataclasses.replace(preset.config, **settings)
    if not preset.blended:
        return train_and_evaluate(config, data=data, data_dir=data_dir,
                                  devices=devices, plot=False,
                                  progress=progress, verbose=verbose,
                                  return_net=True)
    run = train_blend(preset, config.split_mode, config.seed,
                      config.test_ratio, data=data, data_dir=data_dir,
                      devices=devices, progress=progress)
    if verbose:
        print(f'blend: test RMSE {run["test_rmse"]:.4f}')
    return run

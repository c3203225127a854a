"""The lab: d2lrec beyond D2L §16.2-§16.4's code.

The command line (`cli`, with `devices` for ``--device``), every
setting of a run as one value and the presets (`config`), one run
(`experiment`), many side by side (`sweep`), the tuning (`tune`), blends
(`blend`), a run of any preset (`run`), the model kinds and their
evaluation (`models`, `evaluation`, `loss`), predictions and
recommendations (`recommendations`), model files (`modelfile`), MXNet's
threads (`threads`), and the playground with notebook 03's numbers
(`playground`, `reference`).  They build on the book's helper, the
modules at the top of `d2lrec`, which never import them
(tests/test_layout.py).  Their public names are this package's:
``from d2lrec import lab; lab.train_and_evaluate()``.
"""
from d2lrec._lazy import lazy

#: Where each of the lab's public names lives.
_MODULES = {
    'config': ('Config', 'TUNED', 'Preset', 'BLEND', 'PRESETS'),
    'devices': ('choose_devices',),
    'loss': ('L2Loss',),
    'threads': ('use_all_cores',),
    'models': ('DeepAutoRec', 'build_net'),
    'experiment': ('train_and_evaluate',),
    'sweep': ('train_many', 'compare'),
    'tune': ('coordinate_search',),
    'blend': ('train_blend',),
    'run': ('run_preset',),
    'recommendations': ('read_items_ml100k', 'predict_ratings', 'recommend',
                        'top_rated'),
    'modelfile': ('save_model', 'load_model'),
}

__all__, __getattr__, __dir__ = lazy(__name__, _MODULES)

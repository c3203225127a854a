"""Command line (D2L §16.4): ``python -m d2lrec train`` runs the chapter
end to end, ``python -m d2lrec recommend`` shows what a model recommends.

The defaults of ``train`` are the chapter's settings; ``--preset tuned``
replaces them with `d2lrec.lab.config.TUNED`, and explicit options still
win.  ``--preset blend`` trains `d2lrec.lab.config.BLEND`
(`d2lrec.lab.blend`) on the split that ``--split``, ``--test-ratio`` and
``--seed`` give.  Each runs with `d2lrec.lab.run.run_preset`.
Per-epoch progress goes to stderr; with ``--json`` the last line of stdout
is one JSON object.  Usage errors exit with 2, data, model-file, device
and divergence errors with 1, Ctrl-C with 130, each with one message and
no traceback.
"""
import argparse
import dataclasses
import json
import signal
import sys

from d2lrec.datasets import (DATA_DIR_ENV, DATASETS, DEFAULT,
                             DEFAULT_DATA_DIR, FOLDS, SPLIT_MODES)
from d2lrec.lab.config import (CHAPTER, PRESETS, Config, add_options,
                               option, positive_int_option)
from d2lrec.lab.threads import use_all_cores


class _HelpFormatter(argparse.HelpFormatter):
    """Ends each option's help with its default, once: not where the
    help already says it, nor for options that default to nothing
    (``--help``'s default is argparse's "no value")."""

    def _get_help_string(self, action):
        if (action.default in (None, argparse.SUPPRESS)
                or '(default: ' in action.help):
            return action.help
        return f'{action.help} (default: {action.default})'


def _common(parser):
    parser.add_argument('--device', choices=['auto', 'cpu', 'gpu'],
                        default='auto',
                        help='auto: every GPU, else the CPU; gpu: fail, '
                             'saying why, when no GPU works')
    parser.add_argument('--data-dir', default=None,
                        help=f'data root holding {DEFAULT}/ or '
                             f'{DEFAULT}.zip (default: ${DATA_DIR_ENV}, '
                             f'else {DEFAULT_DATA_DIR})')


def _train_options(train, defaults):
    """``train``'s options: one per `Config` field (see d2lrec/lab/config.py)
    with `defaults`, and those of the command line itself."""
    train.add_argument('--preset', choices=sorted(PRESETS),
                       help='start from these settings instead of the '
                            "chapter's (see d2lrec/lab/config.py); blend "
                            'trains five models and blends them, with '
                            'only --split, --test-ratio and --seed')
    hidden = train.add_mutually_exclusive_group()
    hidden.add_argument('--hidden', type=positive_int_option,
                        help='hidden units of a one-layer AutoRec (short '
                             'for --hidden-layers N)')
    add_options(train, defaults, groups={'hidden_layers': hidden},
                choices={'split_mode': SPLIT_MODES + ('folds',)})
    train.add_argument('--save', metavar='PATH',
                       help='save the trained model and its settings to '
                            'the one file PATH, for recommend --load')
    train.add_argument('--json', action='store_true',
                       help='print the result as one JSON line last')


def make_parser(preset=None):
    """Return the argument parser of ``python -m d2lrec``; with `preset`
    (a key of `PRESETS`), its settings are the defaults of ``train``."""
    parser = argparse.ArgumentParser(
        prog='python -m d2lrec',
        description=f'AutoRec (D2L §16.4) on {DATASETS[DEFAULT].title}.')
    commands = parser.add_subparsers(dest='command', required=True)
    train = commands.add_parser(
        'train', help="train and evaluate the chapter's item-based AutoRec",
        formatter_class=_HelpFormatter)
    _train_options(train, preset_of(preset).config)
    _common(train)
    recommend = commands.add_parser(
        'recommend', help="a user's top-k unseen movies, one per line",
        formatter_class=_HelpFormatter)
    recommend.add_argument('--user', type=positive_int_option, required=True,
                           help='user id, 1..943')
    recommend.add_argument('-k', type=positive_int_option, default=10,
                           help='how many movies')
    recommend.add_argument('--seed', type=int, default=0,
                           help='seeds the training of the tuned preset '
                                'when there is no --load')
    recommend.add_argument('--load', metavar='PATH',
                           help='a model saved by train --save (default: '
                                'train one with --preset tuned)')
    _common(recommend)
    for command in (train, recommend):  # its usage errors show its usage
        command.set_defaults(parser=command)
    return parser


def preset_of(name):
    """The `Preset` of ``--preset`` `name`; without one, the chapter's
    settings."""
    return PRESETS[name] if name else CHAPTER


def parse_args(argv=None):
    """Parse `argv`; a ``--preset`` becomes the defaults of ``train``."""
    parser = make_parser()
    args = parser.parse_args(argv)
    if getattr(args, 'preset', None):
        parser = make_parser(args.preset)
        args = parser.parse_args(argv)
        _check_preset_options(args)
    return parser, args


def _check_preset_options(args):
    """A usage error if `args` set what the preset's members fix."""
    preset = preset_of(args.preset)
    fixed = [field.name for field in dataclasses.fields(Config)
             if field.name not in preset.settings]
    given = ['--hidden'] if args.hidden and 'hidden_layers' in fixed else []
    given += ['--save'] if args.save and preset.blended else []
    given += [option(name) for name in fixed
              if getattr(args, name) != getattr(preset.config, name)]
    if given:
        *first, last = map(option, preset.settings)
        args.parser.error(
            f'--preset {args.preset} trains its members with their own '
            f'settings (d2lrec/lab/config.py) and saves no model file; of '
            f"train's settings it takes {', '.join(first)} and {last}, "
            f'got {", ".join(given)}')


def settings_of(args, preset, split_mode):
    """The settings of `preset` that ``train``'s options give, on
    `split_mode`."""
    settings = {name: getattr(args, name) for name in preset.settings}
    if args.hidden:
        settings['hidden_layers'] = (args.hidden,)
    return dict(settings, split_mode=split_mode)


def train(args, devices):
    """``train``: one split, or the mean over the five folds."""
    from d2lrec.lab.experiment import mean_of_folds
    from d2lrec.lab.run import run_preset
    preset = preset_of(args.preset)
    splits = FOLDS if args.split_mode == 'folds' else (args.split_mode,)
    runs = []
    for split in splits:
        if len(splits) > 1:
            print(f'fold {split}:', file=sys.stderr)
        runs.append(run_preset(preset, data_dir=args.data_dir,
                               devices=devices, progress=sys.stderr,
                               **settings_of(args, preset, split)))
    result = runs[0] if len(runs) == 1 else mean_of_folds(runs, splits)
    if args.save:
        from d2lrec.lab.modelfile import save_model
        save_model(result.net, result.config, result.num_users,
                   result.num_items, args.save)
    if len(runs) > 1:
        print(f'5-fold mean test RMSE {result["test_rmse"]:.4f}')
    if args.json:
        print(json.dumps(result))


def recommend(args, devices):
    """``recommend``: load (or train with the tuned preset) and print."""
    from d2lrec.data import read_data
    from d2lrec.lab.modelfile import load_model
    from d2lrec.lab.recommendations import (
        check_user, format_recommendations, predict_ratings,
        read_items_ml100k, recommend as top_unseen, top_rated)
    ratings = read_data(DEFAULT, args.data_dir)
    data, num_users, num_items = ratings
    check_user(args.user, num_users)  # before training a model for it
    if args.load:
        net, config, num_users, num_items = load_model(args.load, devices)
    else:
        from d2lrec.lab.run import run_preset
        print('no --load: training the tuned preset first ...',
              file=sys.stderr)
        run = run_preset(PRESETS['tuned'], data=ratings, devices=devices,
                         progress=sys.stderr, verbose=False, seed=args.seed)
        net, config = run.net, run.config
    scores = predict_ratings(net, config.model, num_users, num_items, data,
                             devices)
    items = read_items_ml100k(args.data_dir)
    for line in format_recommendations(
            args.user, top_unseen(scores, data, args.user, args.k, items),
            top_rated(data, args.user, args.k, items)):
        print(line)


def interrupted():
    """Say that Ctrl-C stopped the command line; return its exit status.
    Also used while it loads (``d2lrec/__init__.py``, ``__main__.py``)."""
    # Ctrl-C within an exec() of a string (as mxnet makes its operators
    # while it loads) marks the process, and Python would then end
    # ``python -m`` by SIGINT instead of with this status
    # (_Py_UnhandledKeyboardInterrupt); an exec() that ends well clears it.
    exec('')
    print('d2lrec: interrupted; no partial file was written',
          file=sys.stderr)
    return 130


def interrupt(signum, frame):
    """Ctrl-C's handler: raise KeyboardInterrupt as Python's own does,
    except inside a finalizer (mxnet frees its arrays in ``__del__``),
    where Python would print the exception, drop it, and training would
    go on; there, try again 50 ms later (SIGALRM, also handled here)."""
    while frame is not None:
        if frame.f_code.co_name == '__del__':
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            return
        frame = frame.f_back
    raise KeyboardInterrupt


def main(argv=None):
    """Run the command line; return the exit status.  Ctrl-C is handled
    by `interrupt` meanwhile."""
    before = {signum: signal.signal(signum, interrupt)
              for signum in (signal.SIGINT, signal.SIGALRM)}
    try:
        return _main(argv)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for signum, handler in before.items():
            signal.signal(signum, handler)


def _main(argv):
    _, args = parse_args(argv)
    use_all_cores()
    try:
        return _run(args)
    except KeyboardInterrupt:  # while mxnet loads, too
        return interrupted()


#: The system libraries that mxnet 1.9.1's wheel links against and
#: does not bundle, with the Debian and Ubuntu packages that hold them.
SYSTEM_LIBRARIES = {'libgomp': 'libgomp1', 'libquadmath': 'libquadmath0'}


def _missing_library_fix(error):
    """How to install the library that `error` (mxnet's OSError) names."""
    if any(name in error for name in SYSTEM_LIBRARIES):
        return (f'mxnet 1.9.1 needs the system\'s OpenMP and quad-precision '
                f'math libraries: apt-get install '
                f'{" ".join(SYSTEM_LIBRARIES.values())} (Debian, Ubuntu; '
                f'docs/install.md).')
    from d2lrec._cuda import FIX
    return (f'mxnet-cu112 needs the CUDA 11 libraries of the GPU stack: '
            f'{FIX}, or install the CPU build: pip install mxnet==1.9.1.')


def _run(args):
    """Run the command of the parsed `args`; return the exit status."""
    try:
        import mxnet  # noqa: F401 (loads libmxnet.so, after the threads)
    except OSError as e:  # a library that libmxnet.so links against
        print(f'd2lrec: error: mxnet could not load a library it needs: '
              f'{e}. {_missing_library_fix(str(e))}', file=sys.stderr)
        return 1
    except (AttributeError, ImportError) as e:  # a stack newer than tested
        from d2lrec._compat import untested_stack
        print(f'd2lrec: error: mxnet 1.9.1 failed to import: {e}. '
              f'{untested_stack()}', file=sys.stderr)
        return 1
    from d2lrec.lab.devices import DeviceError, choose_devices
    from d2lrec.datasets import DataError
    from d2lrec.lab.modelfile import ModelFileError
    from d2lrec.train import DivergenceError
    try:
        devices = choose_devices(args.device)
        if args.command == 'train':
            train(args, devices)
        else:
            recommend(args, devices)
    except (DataError, DeviceError, DivergenceError, ModelFileError) as e:
        print(f'd2lrec: error: {e}', file=sys.stderr)
        return 1
    except ValueError as e:  # a value only the data can check
        args.parser.error(str(e))
    return 0

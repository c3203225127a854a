"""Command line (D2L §16.4): ``python -m d2lrec train`` runs the chapter
end to end, ``python -m d2lrec recommend`` shows what a model recommends.

The defaults of ``train`` are the chapter's settings; ``--preset tuned``
replaces them with `d2lrec.config.TUNED`, and explicit options still win.
Per-epoch progress goes to stderr; with ``--json`` the last line of stdout
is one JSON object.  Usage errors exit with 2, data, model-file, device
and divergence errors with 1, Ctrl-C with 130, each with one message and
no traceback.
"""
import argparse
import json
import statistics
import sys

from d2lrec.config import (ACTIVATIONS, FOLDS, MODELS, PRESETS,
                           use_all_cores)

SPLITS = ('random', 'seq-aware') + FOLDS + ('folds',)
#: A preset's keys are `train_and_evaluate`'s arguments; these differ
#: from the option of ``train`` that they set.
PRESET_RENAMES = {'num_epochs': 'epochs'}


def _number(kind, ok, wanted):
    """An argparse type: `kind` parsed from text, then checked by `ok`."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'expected {kind.__name__}, got {text!r}') from None
        if not ok(value):  # NaN fails every check
            raise argparse.ArgumentTypeError(f'must be {wanted}, got {text}')
        return value
    return parse


_positive_int = _number(int, lambda v: v > 0, '> 0')
_positive_float = _number(float, lambda v: v > 0, '> 0')
_non_negative_float = _number(float, lambda v: v >= 0, '>= 0')
_dropout = _number(float, lambda v: 0 <= v < 1, 'in [0, 1)')
_ratio = _number(float, lambda v: 0 < v < 1, 'in (0, 1)')
_rating = _number(float, lambda v: 1 <= v <= 5, 'in [1, 5]')


def _layer_sizes(text):
    return tuple(_positive_int(size) for size in text.split(','))


def _common(parser):
    parser.add_argument('--seed', type=int, default=0,
                        help='seeds the split, initialization, dropout and '
                             'shuffling')
    parser.add_argument('--device', choices=['auto', 'cpu', 'gpu'],
                        default='auto',
                        help='auto: every GPU, else the CPU; gpu: fail, '
                             'saying why, when no GPU works')
    parser.add_argument('--data-dir', default=None,
                        help='data root holding ml-100k/ or ml-100k.zip '
                             '(default: $D2LREC_DATA_DIR, else '
                             '~/.cache/d2lrec)')


def _train_options(train):
    train.add_argument('--preset', choices=sorted(PRESETS),
                       help='start from these settings instead of the '
                            "chapter's (see d2lrec/config.py)")
    train.add_argument('--model', choices=MODELS, default='autorec',
                       help='item-based AutoRec (the chapter), user-based '
                            'AutoRec, or matrix factorization (§16.3)')
    hidden = train.add_mutually_exclusive_group()
    hidden.add_argument('--hidden', type=_positive_int, default=500,
                        help='hidden units of a one-layer AutoRec')
    hidden.add_argument('--hidden-layers', type=_layer_sizes,
                        metavar='N,N,...',
                        help='hidden layer sizes, e.g. 500,250,500 '
                             '(overrides --hidden)')
    train.add_argument('--encoder-act', choices=ACTIVATIONS,
                       default='sigmoid',
                       help='activation of every hidden layer')
    train.add_argument('--decoder-act', choices=ACTIVATIONS,
                       default='identity',
                       help='activation of the output layer (sigmoid and '
                            'tanh are scaled to ratings 1..5)')
    train.add_argument('--factors', type=_positive_int, default=30,
                       help='latent factors of MF')
    train.add_argument('--epochs', type=_positive_int, default=None,
                       help='epochs (default: 25 for AutoRec, 20 for MF)')
    train.add_argument('--lr', type=_positive_float, default=0.002,
                       help='Adam learning rate')
    train.add_argument('--lr-schedule', choices=['cosine'], default=None,
                       help='decay the learning rate to 1%% of --lr')
    train.add_argument('--wd', type=_non_negative_float, default=1e-5,
                       help='weight decay')
    train.add_argument('--batch-size', type=_positive_int, default=None,
                       help='default: 256 for AutoRec, 512 for MF')
    train.add_argument('--dropout', type=_dropout, default=0.05)
    train.add_argument('--split', choices=SPLITS, default='random',
                       help='u1..u5: a canonical fold; folds: all five, '
                            'reporting their mean')
    train.add_argument('--test-ratio', type=_ratio, default=0.1,
                       help='test share of the random split')
    train.add_argument('--clip', action=argparse.BooleanOptionalAction,
                       default=False,
                       help='clip predictions to [1, 5]')
    train.add_argument('--unseen-rating', type=_rating, default=None,
                       help='predict this for test users/items without a '
                            'training rating (the AutoRec paper uses 3)')
    train.add_argument('--save', metavar='PATH',
                       help='save the trained model and its settings '
                            'to the one file PATH, for recommend --load')
    train.add_argument('--json', action='store_true',
                       help='print the result as one JSON line last')


def make_parser(preset=None):
    """Return the argument parser of ``python -m d2lrec``; with `preset`
    (a key of `PRESETS`), its settings are the defaults of ``train``."""
    parser = argparse.ArgumentParser(
        prog='python -m d2lrec',
        description='AutoRec (D2L §16.4) on MovieLens 100K.')
    commands = parser.add_subparsers(dest='command', required=True)
    train = commands.add_parser(
        'train', help="train and evaluate the chapter's item-based AutoRec",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _train_options(train)
    if preset:
        train.set_defaults(**{PRESET_RENAMES.get(key, key): value
                              for key, value in PRESETS[preset].items()})
    _common(train)
    recommend = commands.add_parser(
        'recommend', help="a user's top-k unseen movies, one per line",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    recommend.add_argument('--user', type=_positive_int, required=True,
                           help='user id, 1..943')
    recommend.add_argument('-k', type=_positive_int, default=10,
                           help='how many movies')
    recommend.add_argument('--load', metavar='PATH',
                           help='a model saved by train --save (default: '
                                'train one with --preset tuned)')
    _common(recommend)
    return parser


def parse_args(argv=None):
    """Parse `argv`; a ``--preset`` becomes the defaults of ``train``."""
    parser = make_parser()
    args = parser.parse_args(argv)
    if getattr(args, 'preset', None):
        parser = make_parser(args.preset)
        args = parser.parse_args(argv)
    return parser, args


def _train_kwargs(args):
    return dict(model=args.model,
                hidden_layers=args.hidden_layers or (args.hidden,),
                encoder_act=args.encoder_act, decoder_act=args.decoder_act,
                num_factors=args.factors, num_epochs=args.epochs,
                lr=args.lr, lr_schedule=args.lr_schedule, wd=args.wd,
                batch_size=args.batch_size, dropout=args.dropout,
                test_ratio=args.test_ratio, clip=args.clip,
                unseen_rating=args.unseen_rating, seed=args.seed,
                data_dir=args.data_dir)


def _save(args, net, num_users, num_items, kwargs):
    from d2lrec.modelfile import model_config, save_model
    save_model(net, model_config(
        kwargs['model'], num_users, num_items,
        hidden_layers=kwargs['hidden_layers'],
        encoder_act=kwargs['encoder_act'],
        decoder_act=kwargs['decoder_act'], dropout=kwargs['dropout'],
        num_factors=kwargs['num_factors'], seed=kwargs['seed']), args.save)


def train(args, devices):
    """``train``: one split, or the mean over the five folds."""
    from d2lrec.experiment import train_and_evaluate
    kwargs = _train_kwargs(args)
    splits = FOLDS if args.split == 'folds' else (args.split,)
    runs = []
    for split in splits:
        if len(splits) > 1:
            print(f'fold {split}:', file=sys.stderr)
        runs.append(train_and_evaluate(
            split_mode=split, devices=devices, plot=False,
            progress=sys.stderr, return_net=True, **kwargs))
    if args.save:
        _save(args, *runs[-1][1:], kwargs)
    results = [run[0] for run in runs]
    if len(results) == 1:
        result = results[0]
    else:
        result = {'test_rmse': statistics.mean(r['test_rmse']
                                               for r in results),
                  'train_loss': statistics.mean(r['train_loss']
                                                for r in results),
                  'model': args.model, 'split': 'folds', 'seed': args.seed,
                  'epochs': results[0]['epochs'],
                  'seconds': sum(r['seconds'] for r in results),
                  'devices': results[0]['devices'],
                  'folds': {split: r['test_rmse']
                            for split, r in zip(splits, results)}}
        print(f'5-fold mean test RMSE {result["test_rmse"]:.4f}')
    if args.json:
        print(json.dumps(result))


def recommend(args, devices):
    """``recommend``: load (or train with the tuned preset) and print."""
    from d2lrec.data import read_data_ml100k, read_items_ml100k
    from d2lrec.modelfile import load_model
    from d2lrec.recommend import (format_recommendations, predict_ratings,
                                  recommend as top_unseen, top_rated)
    data, num_users, num_items = read_data_ml100k(args.data_dir)
    if not 1 <= args.user <= num_users:
        raise ValueError(f'unknown user id {args.user}: valid ids are '
                         f'1..{num_users}')
    if args.load:
        net, config = load_model(args.load, devices)
        model = config['model']
    else:
        from d2lrec.experiment import train_and_evaluate
        model = PRESETS['tuned']['model']
        print('no --load: training the tuned preset first ...',
              file=sys.stderr)
        _, net, num_users, num_items = train_and_evaluate(
            **PRESETS['tuned'], seed=args.seed, data=(data, num_users,
                                                      num_items),
            devices=devices, plot=False, verbose=False,
            progress=sys.stderr, return_net=True)
    scores = predict_ratings(net, model, num_users, num_items, data,
                             devices)
    items = read_items_ml100k(args.data_dir)
    for line in format_recommendations(
            args.user, top_unseen(scores, data, args.user, args.k, items),
            top_rated(data, args.user, args.k, items)):
        print(line)


def main(argv=None):
    """Run the command line; return the exit status."""
    parser, args = parse_args(argv)
    use_all_cores()
    try:
        from mxnet import npx
    except OSError as e:  # mxnet-cu112 without its CUDA libraries
        print(f'd2lrec: error: mxnet could not load a library it needs: '
              f'{e}. mxnet-cu112 needs the CUDA 11.2 and cuDNN 8 '
              f'libraries on the loader path (see environment.yml and '
              f'the README), or install the CPU build: pip install '
              f'mxnet==1.9.1.', file=sys.stderr)
        return 1
    from d2lrec.devices import DeviceError, choose_devices
    from d2lrec.download import DataError
    from d2lrec.modelfile import ModelFileError
    from d2lrec.train import DivergenceError
    npx.set_np()
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
        parser.error(str(e))
    except KeyboardInterrupt:
        print('d2lrec: interrupted; no partial file was written',
              file=sys.stderr)
        return 130
    return 0

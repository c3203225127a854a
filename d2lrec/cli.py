"""Command line: ``python -m d2lrec train`` runs D2L §16.4 end to end.

The defaults are the chapter's settings.  Per-epoch progress goes to
stderr; with ``--json`` the last line of stdout is one JSON object.
"""
import argparse
import json
import os
import sys


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


def make_parser():
    """Return the argument parser of ``python -m d2lrec``."""
    parser = argparse.ArgumentParser(
        prog='python -m d2lrec',
        description='AutoRec (D2L §16.4) on MovieLens 100K.')
    commands = parser.add_subparsers(dest='command', required=True)
    train = commands.add_parser(
        'train', help="train and evaluate the chapter's item-based AutoRec",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument('--hidden', type=_positive_int, default=500,
                       help='hidden units')
    train.add_argument('--epochs', type=_positive_int, default=25)
    train.add_argument('--lr', type=_positive_float, default=0.002,
                       help='Adam learning rate')
    train.add_argument('--wd', type=_non_negative_float, default=1e-5,
                       help='weight decay')
    train.add_argument('--batch-size', type=_positive_int, default=256)
    train.add_argument('--dropout', type=_dropout, default=0.05)
    train.add_argument('--split', choices=['random', 'seq-aware'],
                       default='random')
    train.add_argument('--test-ratio', type=_ratio, default=0.1,
                       help='test share of the random split')
    train.add_argument('--seed', type=int, default=0,
                       help='seeds the split, initialization, dropout and '
                            'shuffling')
    train.add_argument('--data-dir', default=None,
                       help='data root holding ml-100k/ or ml-100k.zip '
                            '(default: $D2LREC_DATA_DIR, else '
                            '~/.cache/d2lrec)')
    train.add_argument('--json', action='store_true',
                       help='print the result as one JSON line last')
    return parser


def use_all_cores():
    """Let MXNet's operators use every core this process may run on.

    MXNet 1.9 halves the core count when the CPU reports hyper-threading
    (one thread on a 2-core VM).  An ``OMP_NUM_THREADS`` already set wins.
    It has an effect only before mxnet is first imported.
    """
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity')
             else os.cpu_count())
    os.environ.setdefault('OMP_NUM_THREADS', str(cores or 1))


def main(argv=None):
    """Run the command line; return the exit status."""
    parser = make_parser()
    args = parser.parse_args(argv)
    use_all_cores()
    from mxnet import npx

    from d2lrec.chapter import train_autorec
    from d2lrec.download import DataError
    npx.set_np()
    try:
        result = train_autorec(
            num_hidden=args.hidden, num_epochs=args.epochs, lr=args.lr,
            wd=args.wd, batch_size=args.batch_size, dropout=args.dropout,
            split_mode=args.split, test_ratio=args.test_ratio,
            seed=args.seed, data_dir=args.data_dir, plot=False,
            progress=sys.stderr)
    except DataError as e:
        print(f'd2lrec: error: {e}', file=sys.stderr)
        return 1
    except ValueError as e:  # a value only the data can check
        parser.error(str(e))
    if args.json:
        print(json.dumps(result))
    return 0

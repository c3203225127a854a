"""Wall time of D2L §16.4's full run: the book's code path vs d2lrec.

Both runs cover data load, split, matrices and 25 epochs with evaluation
every epoch, on the same data, each in a fresh process, one after the
other (imports excluded), for seeds 0 to 4 (one seed is one sample:
the split alone moves the RMSE by about +-0.005).  Prints the mean time
and test RMSE of each path and the ratio of the mean times.  A
benchmark, not a test: these machines are noisy, so read the ratio,
don't assert on it.

    D2LREC_DATA_DIR=../shared/data python benchmarks/chapter_speed.py
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).parent


def d2lrec_path(seed=0):
    """Run the chapter as ``python -m d2lrec train`` does; return
    (test RMSE, seconds)."""
    from d2lrec.lab.threads import use_all_cores
    use_all_cores()
    from mxnet import npx

    from d2lrec.lab.experiment import train_and_evaluate
    npx.set_np()
    start = time.perf_counter()
    result = train_and_evaluate(seed=seed, plot=False)
    return result['test_rmse'], time.perf_counter() - start


def run(*args):
    """Run this benchmark's python `args` in a fresh process; parse JSON."""
    out = subprocess.run([sys.executable, *args], check=True,
                         capture_output=True, text=True,
                         env={**os.environ, 'MPLBACKEND': 'Agg'})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, default=5,
                        help='seeds 0 .. N-1 for each path (>= 2)')
    parser.add_argument('--only-d2lrec', type=int, metavar='SEED',
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only_d2lrec is not None:
        test_rmse, seconds = d2lrec_path(args.only_d2lrec)
        print(json.dumps({'test_rmse': test_rmse, 'seconds': seconds}))
        return
    seconds, rmses = {}, {}
    for name, script, flags in (
            ('book (d2l 1.0.3)', 'book_path.py', []),
            ('d2lrec', 'chapter_speed.py', ['--only-d2lrec'])):
        runs = [run(str(HERE / script), *flags, str(seed))
                for seed in range(args.seeds)]
        seconds[name] = statistics.mean(r['seconds'] for r in runs)
        rmses[name] = [r['test_rmse'] for r in runs]
        print(f'{name:17s} {seconds[name]:6.2f} s wall (mean), test RMSE '
              f'{statistics.mean(rmses[name]):.4f} '
              f'+- {statistics.stdev(rmses[name]):.4f} (seeds: '
              + ' '.join(f'{x:.4f}' for x in rmses[name]) + ')')
    book, ours = rmses.values()
    error = (statistics.variance(book) / len(book)
             + statistics.variance(ours) / len(ours)) ** 0.5
    print(f'RMSE difference d2lrec - book: '
          f'{statistics.mean(ours) - statistics.mean(book):+.4f} '
          f'(standard error {error:.4f})')
    ratio = seconds['book (d2l 1.0.3)'] / seconds['d2lrec']
    print(f'speed-up: {ratio:.2f}x (target >= 4)')


if __name__ == '__main__':
    main()

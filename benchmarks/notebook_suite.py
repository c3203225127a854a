"""Wall time of the notebook suite, ``pytest --nbval notebooks`` (D2L
§16.2 and §16.4), at an earlier revision and in this working tree.

The earlier revision (default: 81143ff, the suite before sweeps evaluated
only their last epoch) is exported with ``git archive`` into a temporary
folder; both suites then run one after the other, in fresh processes, on
the same Python, with their own d2lrec first on ``PYTHONPATH``, each
against its own committed outputs.  With ``--repeats N`` the order
alternates.  Prints each suite's time, whether it passed, and the ratio
of the mean times.  A benchmark, not a test: these machines are noisy, so
read the ratio, measured in one run, don't assert on it.

    D2LREC_DATA_DIR=../shared/data python benchmarks/notebook_suite.py
    python benchmarks/notebook_suite.py notebooks/03-autorec-exercises.ipynb
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BEFORE = '81143ff'


def export(revision, folder):
    """Write the files of `revision` of this repository into `folder`."""
    archive = subprocess.run(['git', 'archive', revision], cwd=ROOT,
                             check=True, capture_output=True).stdout
    subprocess.run(['tar', '-x', '-C', folder], input=archive, check=True)


def suite(root, notebooks):
    """Run ``pytest --nbval`` on `notebooks` in `root`; return (seconds,
    passed)."""
    env = {**os.environ, 'PYTHONPATH': str(root)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, '-m', 'pytest', '--nbval', '-q',
         '-p', 'no:cacheprovider', *notebooks],
        cwd=root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        print(done.stdout[-3000:], file=sys.stderr)
    return seconds, done.returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('notebooks', nargs='*', default=['notebooks'],
                        help='notebooks or folders (default: notebooks)')
    parser.add_argument('--before', default=BEFORE,
                        help=f'the earlier revision (default {BEFORE})')
    parser.add_argument('--repeats', type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        export(args.before, folder)
        roots = {f'before ({args.before})': pathlib.Path(folder),
                 'this tree': ROOT}
        times = {name: [] for name in roots}
        for repeat in range(args.repeats):
            order = list(roots) if repeat % 2 == 0 else list(roots)[::-1]
            for name in order:
                seconds, passed = suite(roots[name], args.notebooks)
                times[name].append(seconds)
                print(f'{name:20s} {seconds:7.1f} s wall, '
                      f'{"passed" if passed else "FAILED"}', flush=True)
    before, after = (statistics.mean(t) for t in times.values())
    print(f'this tree / before: {after / before:.2f} (target < 0.5)')


if __name__ == '__main__':
    main()

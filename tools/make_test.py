"""`make test`: say what will and won't run, run it, then sum it up.

Before any heavy work it checks, within seconds, what each part of the
test suite needs (a second Python, a C compiler, Chromium, a GPU, the
real MovieLens 100K, an AVX-512 CPU to emulate a smaller one on, root
and debootstrap for Debian's own Pythons) and prints a plan: the parts
it will run, with their time and download size, and each part it won't,
with the reason and the one setting that enables it.  Then it runs each
part as its own make target (``make test-unit``, ...), goes on after a
part fails, and ends with a summary that repeats what did not run.

With ``--strict`` (``make test STRICT=1``, what CI runs) a part that
cannot run is an error: it prints the plan and exits 1 at once.  Parts
that have nothing to prove on this machine (``test-isa`` on a CPU
without AVX-512) are not errors.

Standard library only: it runs on the Python that makes the venvs.
"""
import argparse
import os
import pathlib
import runpy
import shutil
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
GPU_STACK_GB = 4.5  # the GPU venv and its build, on disk
DEBIAN_GB = 4  # test-debian's two Debian roots, a venv in each: 2.4 GB


def download_setting(name):
    """The value of `name` in d2lrec/datasets.py, run on its own: it needs
    the standard library only, where the d2lrec package needs the
    packages that make test installs."""
    return runpy.run_path(str(ROOT / 'd2lrec' / 'datasets.py'))[name]


class Part:
    """One part of `make test`: a make target, what it proves, its time
    (minutes, measured on 2 cores: docs/speed.md) and download size, and
    why it can't run here (`missing`, with `enable`: the setting that
    makes it run) or has nothing to prove here (`moot`)."""

    def __init__(self, target, proves, minutes, download='',
                 missing=None, enable='', moot=None):
        self.target, self.proves = target, proves
        self.minutes, self.download = minutes, download
        self.missing, self.enable, self.moot = missing, enable, moot
        self.result = self.seconds = None

    @property
    def runs(self):
        return not (self.missing or self.moot)

    @property
    def why_not(self):
        return self.moot or f'{self.missing}; to run it: {self.enable}'


def find_data():
    """Return (the data root, or None, and a line saying where the data
    is or why there is none).  Only looks for ml-100k/u.data: the tests
    check it."""
    env = download_setting('DATA_DIR_ENV')
    given = os.environ.get(env)
    root = pathlib.Path(given or download_setting('DEFAULT_DATA_DIR'))
    root = root.expanduser().absolute()
    if (root / 'ml-100k' / 'u.data').is_file():
        return root, f'ML-100K in {root}'
    url = download_setting('DATA_HUB')['ml-100k'][0]
    try:
        urllib.request.urlopen(urllib.request.Request(url, method='HEAD'),
                               timeout=5).close()
    except OSError as e:
        where = f'{env}={given}' if given else f'{env} unset, {root}'
        return None, (f'none: {where} has no ml-100k/, and {url} cannot '
                      f'be reached ({getattr(e, "reason", e)})')
    return root, f'ML-100K, downloaded on first use into {root} (5 MB)'


def has_avx512():
    try:
        return ' avx512f' in pathlib.Path('/proc/cpuinfo').read_text()
    except OSError:
        return False


def free_gb(path):
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free / 2**30


def plan(args):
    """The parts of `make test` on this machine, in the order they run,
    the data root (or None) and a line about the data."""
    py311 = args.py == '3.11'
    data, data_note = find_data()
    env = download_setting('DATA_DIR_ENV')
    no_data = dict(missing=None if data else 'no ML-100K (see data)',
                   enable=f'{env}=/path/to/data (holding ml-100k/)')
    parts = [
        Part('test-unit', 'every unit test' + (
             ', the assignment autograded (nbgrader)' if data and py311
             else '' if data else ' (those on the real data skip)'), 6,
             '200 MB' if py311 else '155 MB'),
        Part('test-notebooks', 'every notebook against its outputs (nbval)',
             11, **no_data),
        Part('test-stack', f'the numpy 2 stack on Python {args.stack_py}: '
             'every unit test' + (
                 ', the chapter bit for bit against the book\'s, every '
                 'notebook' if data else ' (those on the real data skip)'),
             11 if data else 4, '160 MB', missing=None if py311 else
             f'Python {args.py}: no book\'s stack (numpy 1.23.5) to '
             'compare with', enable='PYTHON=python3.11'),
        Part('test-isa', f'{args.isa} emulated: notebooks 02 05, the '
             'runs of 03 that move most', 2, **no_data,
             moot=None if has_avx512() or args.isa != 'AVX2' else
             'nothing to emulate: this CPU has AVX2 and no AVX-512, so '
             'the parts above ran on AVX2'),
        Part('test-colab', 'today\'s Colab and the next, simulated '
             '(Pythons 3.12 and 3.13, numpy 2)', 6, '1.5 GB',
             **(no_data if args.colab_python else dict(
                 missing='no Python 3.12 or 3.13 (Colab\'s, the next '
                 'Colab\'s)', enable='COLAB_PYTHONS="/path/to/python3.12 '
                 '/path/to/python3.13"'))),
    ]
    cached = any(args.cache.glob('venv-cu112-*/d2lrec-complete'))
    gpu = Part('test-gpu-stack', 'the GPU stack, installed, up to the '
               'driver', 3 if cached else 8, '-' if cached else '4 GB',
               **no_data)
    if not (args.gpu or args.strict or shutil.which('nvidia-smi')):
        gpu.missing, gpu.enable = 'no NVIDIA GPU: 4 GB not fetched', 'GPU=1'
    elif not shutil.which('cc'):
        gpu.missing = 'no C compiler (cc) for its stand-in driver'
        gpu.enable = 'apt-get install gcc'
    elif free_gb(args.cache) < GPU_STACK_GB:
        gpu.missing = f'under {GPU_STACK_GB} GB free in {args.cache}'
        gpu.enable = 'D2LREC_CACHE=/a/roomier/folder'
    browser = Part('test-browser', 'the playground in headless Chromium',
                   2, **no_data)
    if not py311:
        browser.missing = 'its environment, .venv, needs Python 3.11'
        browser.enable = 'PYTHON=python3.11'
    elif not (shutil.which('chromium') and shutil.which('chromedriver')):
        browser.missing = 'no chromium and chromedriver'
        browser.enable = 'apt-get install chromium chromium-driver'
    debian = debian_part(args, no_data)
    return parts + [gpu, browser, debian], data, data_note


def debian_part(args, no_data):
    """test-debian: Debian's own Pythons, in roots that debootstrap makes
    (as root) and D2LREC_CACHE keeps; against the book's stack."""
    cached = all(any(args.cache.glob(f'debian-{suite}-*/d2lrec-complete'))
                 for suite in ('trixie', 'sid'))
    # Each run makes three venvs from fresh clones (160 MB of wheels
    # each, where pip's cache has none); a cold one debootstraps first.
    part = Part('test-debian', 'Debian 13\'s Python 3.13, sid\'s 3.14 '
                'and 3.15: make chapter, its epochs, notebooks 01 02',
                6 if cached else 8, '480 MB' if cached else '620 MB',
                **no_data)
    if args.py != '3.11':
        part.missing = f'Python {args.py}: no book stack to compare with'
        part.enable = 'PYTHON=python3.11'
    elif os.geteuid() != 0:
        part.missing = 'not root: debootstrap, chroot and mount need it'
        part.enable = 'make test as root'
    elif not shutil.which('debootstrap'):
        part.missing = 'no debootstrap'
        part.enable = 'apt-get install debootstrap'
    elif free_gb(args.cache) < DEBIAN_GB:
        part.missing = f'under {DEBIAN_GB} GB free in {args.cache}'
        part.enable = 'D2LREC_CACHE=/a/roomier/folder'
    return part


def stacks(args):
    """A line naming the environments that make test uses here."""
    numpy_2 = f'numpy 2 (.venv-numpy2, Python {args.stack_py})'
    if args.py != '3.11':
        return f'{numpy_2}; the book\'s needs Python 3.11'
    return (f'the book\'s (.venv, Python 3.11, numpy 1.23.5), the main '
            f'one; {numpy_2}')


def show_plan(parts, data_note, args):
    running = [part for part in parts if part.runs]
    print('make test: the plan (docs/install.md#make-test)')
    print(f'  data: {data_note}')
    print(f'  stacks: {stacks(args)}')
    minutes = sum(part.minutes for part in running)
    print(f'  will run, about {minutes} min on 2 cores, new venvs '
          f'included:')
    for part in running:
        print(f'    {part.target:15} {part.minutes:2} min  '
              f'{part.download or "-":7}  {part.proves}')
    print('  will not run:' if len(running) < len(parts) else '')
    for part in parts:
        if not part.runs:
            print(f'    {part.target:15} {part.why_not}')
    sys.stdout.flush()


def run(parts, data):
    env = dict(os.environ)
    if data:
        env[download_setting('DATA_DIR_ENV')] = str(data)
    else:  # test-stack leaves out its notebooks
        env['STACK_NOTEBOOKS'] = ''
    for part in parts:
        if not part.runs:
            continue
        print(f'\nmake test: {part.target}', flush=True)
        start = time.monotonic()
        done = subprocess.run(['make', '--no-print-directory', part.target],
                              cwd=ROOT, env=env)
        part.seconds = time.monotonic() - start
        part.result = 'passed' if done.returncode == 0 else 'FAILED'


def summary(parts):
    """Print each part's result and time, then what did not run; return
    whether every part that ran passed."""
    print('\nmake test: summary')
    for part in parts:
        if part.runs:
            minutes, seconds = divmod(round(part.seconds), 60)
            print(f'  {part.result:7} {part.target:15} {minutes:2} min '
                  f'{seconds:02} s')
    for part in parts:
        if not part.runs:
            print(f'  not run {part.target:15} {part.why_not}')
    counts = [sum(part.result == 'passed' for part in parts),
              sum(part.result == 'FAILED' for part in parts),
              sum(not part.runs for part in parts)]
    print('parts: {} passed, {} failed, {} skipped'.format(*counts))
    return counts[1] == 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--strict', action='store_true',
                        help='a part that cannot run is an error (CI)')
    parser.add_argument('--gpu', action='store_true',
                        help='build and test the GPU stack without a GPU')
    parser.add_argument('--py', required=True,
                        help="the main Python's version, 3.11 to 3.15")
    parser.add_argument('--stack-py', help="the numpy 2 stack's Python's "
                        'version (default: --py)')
    parser.add_argument('--colab-python', default='',
                        help='the Colab test\'s Pythons, space-separated')
    parser.add_argument('--isa', default='AVX2')
    parser.add_argument('--cache', type=pathlib.Path, default=pathlib.Path(
        os.environ.get('D2LREC_CACHE')
        or pathlib.Path.home() / '.cache' / 'd2lrec'))
    parser.add_argument('--plan', action='store_true',
                        help='print the plan and stop')
    args = parser.parse_args(argv)
    args.stack_py = args.stack_py or args.py
    parts, data, data_note = plan(args)
    show_plan(parts, data_note, args)
    missing = [part for part in parts if part.missing]
    if args.strict and missing:
        for part in missing:
            print(f'make test: error: STRICT=1, and {part.target} cannot '
                  f'run: {part.why_not}', file=sys.stderr)
        return 1
    if args.plan:
        return 0
    run(parts, data)
    return 0 if summary(parts) else 1


if __name__ == '__main__':
    sys.exit(main())

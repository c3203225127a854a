"""Debian's own Pythons, as readers have them (``make test-debian``, part
of ``make test``; skipped unless D2LREC_DEBIAN_TEST is set): Debian 13's
python3.13, and python3.14 and python3.15 from Debian's unstable suite.

1. A Debian root for each suite (`SUITES`), made by ``debootstrap
   --variant=minbase`` with only what a reader installs, and kept under
   D2LREC_CACHE (default ~/.cache/d2lrec) in a folder named by a hash of
   what it is made of (suite, packages, mirror, this machine's own CAs),
   so a changed list gets a new root (and the old one is removed); one
   that did not finish is removed and made again.  The CAs that this
   machine added to Debian's (a proxy's, say) are added there too, so
   that pip reaches PyPI from the root as it does from here.
2. For each Python, in its root: a fresh ``git clone`` of this checkout's
   committed HEAD in /root/d2lrec, the real MovieLens 100K mounted
   read-only where d2lrec looks by default (~/.cache/d2lrec/ml-100k),
   /proc and a /dev/shm; all of them unmounted at the end.
3. Inside the root (chroot), with a reader's plain environment: ``make
   chapter`` (Debian 13, whose only Python is 3.13: no option typed),
   ``make chapter PYTHON=python3.14`` (3.15) makes .venv-numpy2 from
   Debian's Python and prints the chapter's test RMSE, 0.908.
4. That venv's ``python -m d2lrec train --seed 0 --json`` gives every
   epoch's test RMSE and train loss of the book's stack (.venv, Python
   3.11, numpy 1.23.5), run here by D2LREC_BOOK_PYTHON, bit for bit.
5. Notebooks 01 and 02 against their committed outputs (nbval, from the
   clone's root, so that pyproject.toml's options apply).

It needs root (debootstrap, chroot, mount), debootstrap, Debian's mirror
and PyPI, and about 4 GB under D2LREC_CACHE.
"""
import contextlib
import fcntl
import hashlib
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time

import pytest

from d2lrec.lab.config import DEFAULT_EPOCHS
from support import train_json

ROOT = pathlib.Path(__file__).parents[1]
BOOK_PYTHON = os.environ.get('D2LREC_BOOK_PYTHON')
pytestmark = pytest.mark.skipif(
    not os.environ.get('D2LREC_DEBIAN_TEST'),
    reason='make test-debian runs it (D2LREC_DEBIAN_TEST=1; root)')

#: debootstrap's default mirror, the one apt uses here.
MIRROR = 'http://deb.debian.org/debian'
#: What a reader installs besides Python: make, git, and two libraries
#: that mxnet 1.9.1's wheel loads from the system and a minimal Debian
#: lacks, libgomp1 (OpenMP) and libquadmath0 (for its libgfortran.so.3).
READER = ['make', 'git', 'ca-certificates', 'libgomp1', 'libquadmath0']
#: Each suite's packages: Debian 13 (trixie) has python3.13 as python3.
SUITES = {'trixie': ['python3', 'python3-venv', *READER],
          'sid': ['python3.14', 'python3.14-venv', 'python3.15',
                  'python3.15-venv', *READER]}
#: (suite, Python, make chapter's command there): Debian 13's only Python
#: is 3.13, so a reader types no option; sid has several.
PYTHONS = [('trixie', 'python3.13', 'make chapter'),
           ('sid', 'python3.14', 'make chapter PYTHON=python3.14'),
           ('sid', 'python3.15', 'make chapter PYTHON=python3.15')]
#: A reader's shell: none of this machine's PIP_*, PYTHON* or D2LREC_*.
READER_ENV = {'HOME': '/root', 'LANG': 'C.UTF-8',
              'PATH': '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'}
#: In a root: the reader's clone, and where d2lrec looks for the data.
CLONE = 'root/d2lrec'
DATA = 'root/.cache/d2lrec/ml-100k'
#: The CAs this machine added to Debian's (update-ca-certificates).
LOCAL_CAS = pathlib.Path('/usr/local/share/ca-certificates')
COMPLETE = 'd2lrec-complete'
NOTEBOOKS = ['notebooks/01-movielens.ipynb', 'notebooks/02-autorec.ipynb']


def run(*args, timeout=600, **kwargs):
    """subprocess.run, but a timeout or Ctrl-C kills the command's whole
    process group (make's pip, debootstrap's dpkg), not only its first
    process, so that nothing still runs in a root when it is unmounted."""
    with subprocess.Popen([str(arg) for arg in args], text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True, **kwargs) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def tail(out):
    return out.stdout[-3000:] + out.stderr[-3000:]


def in_root(root, command, timeout=600):
    """Run the shell `command` in `root`'s clone (chroot), as a reader:
    as root, with a plain environment."""
    return run('chroot', root, '/bin/sh', '-c', f'cd /{CLONE} && {command}',
               env=READER_ENV, timeout=timeout)


def timed(what, started):
    print(f'{what}: {time.monotonic() - started:.0f} s')


def cache_dir():
    cache = pathlib.Path(os.environ.get('D2LREC_CACHE') or
                         pathlib.Path.home() / '.cache' / 'd2lrec')
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def local_cas():
    return sorted(LOCAL_CAS.rglob('*.crt')) if LOCAL_CAS.is_dir() else []


def root_key(suite):
    """A hash of what the root is made of: suite, packages, mirror and
    the CAs it gets from this machine."""
    digest = hashlib.sha256('\n'.join([suite, MIRROR, *SUITES[suite]])
                            .encode())
    for ca in local_cas():
        digest.update(ca.read_bytes())
    return digest.hexdigest()[:16]


def mounts_under(path):
    """The mount points at or under `path`, deepest first."""
    path, points = str(path), []
    with open('/proc/self/mountinfo') as mountinfo:
        for line in mountinfo:  # its 5th field, with octal escapes
            point = re.sub(r'\\([0-7]{3})', lambda m: chr(int(m[1], 8)),
                           line.split()[4])
            if point == path or point.startswith(path + '/'):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def unmount_all(path):
    """Unmount everything under `path` (debootstrap's /proc too, if it
    stopped half way); lazily where a process still holds it."""
    for point in mounts_under(path):
        if run('umount', point, timeout=60).returncode:
            run('umount', '--lazy', point, timeout=60)
    assert not mounts_under(path), f'still mounted: {mounts_under(path)}'


def remove(root):
    """Remove a root, never through a mount (the data's, say)."""
    unmount_all(root)
    shutil.rmtree(root, ignore_errors=True)


def add_local_cas(root):
    """This machine's own CAs, added to the root's as they are here."""
    for ca in local_cas():
        copy = root / ca.relative_to('/')
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ca, copy)
    return run('chroot', root, 'update-ca-certificates', env=READER_ENV)


def debian_root(suite):
    """The root of `suite`, made whole or not at all, or reused."""
    cache = cache_dir()
    root = cache / f'debian-{suite}-{root_key(suite)}'
    with open(cache / f'debian-{suite}.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one maker at a time
        if not (root / COMPLETE).exists():
            for old in cache.glob(f'debian-{suite}-*'):  # keep one
                remove(old)
            started = time.monotonic()
            made = run('debootstrap', '--variant=minbase',
                       '--include=' + ','.join(SUITES[suite]), suite, root,
                       MIRROR, timeout=1800)
            if made.returncode == 0:
                made = add_local_cas(root)
            if made.returncode:
                remove(root)
            assert made.returncode == 0, tail(made)
            (root / COMPLETE).touch()
            timed(f'debootstrap {suite}', started)
    return root


def fresh_clone(root):
    """A fresh clone of this checkout's committed HEAD, in `root`."""
    clone = root / CLONE
    shutil.rmtree(clone, ignore_errors=True)  # the last one, its venv too
    env = {name: value for name, value in os.environ.items()
           if not name.startswith('GIT_')}
    head = run('git', 'rev-parse', 'HEAD', cwd=ROOT, env=env).stdout
    for args in (['clone', '-q', '--no-checkout', ROOT, clone],
                 ['-C', clone, 'checkout', '-q', head.strip()]):
        out = run('git', *args, env=env)
        assert out.returncode == 0, tail(out)


@contextlib.contextmanager
def mounted(root, data):
    """/proc, a /dev/shm, and `data` read-only at DATA, in `root`;
    unmounted at the end, whatever happens."""
    (root / DATA).mkdir(parents=True, exist_ok=True)
    try:
        for args in (['-t', 'proc', 'proc', root / 'proc'],
                     ['-t', 'tmpfs', 'shm', root / 'dev' / 'shm'],
                     ['--bind', data, root / DATA],
                     ['-o', 'remount,bind,ro', root / DATA]):
            out = run('mount', *args, timeout=60)
            assert out.returncode == 0, tail(out)
        yield
    finally:
        unmount_all(root)
        (root / DATA).rmdir()


def history(result):
    """Every epoch's test RMSE and train loss of a JSON result."""
    return [(epoch['test_rmse'], epoch['train_loss'])
            for epoch in result['history']]


@pytest.fixture(scope='module')
def book_history(real_data):
    """The chapter's epochs (seed 0) in the book's stack, run here."""
    if not BOOK_PYTHON:
        pytest.skip('needs the book\'s stack (D2LREC_BOOK_PYTHON; make '
                    'test-debian sets it with PYTHON=python3.11)')
    return history(train_json('--seed', '0', python=BOOK_PYTHON))


@pytest.fixture(scope='module', params=PYTHONS,
                ids=[python for _, python, _ in PYTHONS])
def reader(request, real_data):
    """(root, python, make chapter's output): a reader's clone in the
    root of the Python's suite, `make chapter` run there, the data and
    /proc mounted until the Python's tests end."""
    assert os.geteuid() == 0, 'debootstrap, chroot and mount need root'
    suite, python, command = request.param
    root = debian_root(suite)
    fresh_clone(root)
    data = pathlib.Path(os.environ['D2LREC_DATA_DIR'], 'ml-100k')
    with mounted(root, data.resolve()):
        started = time.monotonic()
        chapter = in_root(root, command, 1800)
        timed(f'{command} ({python}), venv included', started)
        yield root, python, chapter


def test_make_chapter_prints_the_chapters_rmse(reader):
    _, _, chapter = reader
    assert chapter.returncode == 0, tail(chapter)
    assert re.search(r'^train loss 0\.\d+, test RMSE 0\.908$',
                     chapter.stdout, re.M), chapter.stdout[-2000:]


def test_the_venv_is_debians_own_python(reader):
    """make made .venv-numpy2 from the root's /usr/bin/python3.X."""
    root, python, _ = reader
    version = in_root(root, f'{python} --version', 60).stdout.strip()
    print(f'{python} in {root.name}: {version}')
    config = (root / CLONE / '.venv-numpy2' / 'pyvenv.cfg').read_text()
    assert f'executable = /usr/bin/{python}\n' in config
    minor = re.escape(python.removeprefix('python'))
    assert re.match(rf'Python {minor}\.\d+$', version), version
    assert f'version = {version.split()[1]}\n' in config


def test_every_epoch_is_the_book_stacks_bit_for_bit(reader, book_history):
    root, python, _ = reader
    started = time.monotonic()
    out = in_root(root, '.venv-numpy2/bin/python -m d2lrec train --seed 0 '
                  '--json')
    timed(f'train --seed 0 on {python}', started)
    assert out.returncode == 0, tail(out)
    here = history(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f'{python}: test RMSE {here[-1][0]!r}, book {book_history[-1][0]!r}')
    assert len(here) == DEFAULT_EPOCHS['autorec']
    assert here == book_history


def test_notebooks_01_and_02_against_their_outputs(reader):
    root, python, _ = reader
    started = time.monotonic()
    out = in_root(root, '.venv-numpy2/bin/python -m pytest -p '
                  'no:cacheprovider --nbval --nbval-current-env '
                  + ' '.join(NOTEBOOKS), 1200)
    timed(f'notebooks 01 02 on {python}', started)
    assert out.returncode == 0, tail(out)

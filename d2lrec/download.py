"""Download, verify and extract MovieLens 100K (D2L §16.2, "Getting the
Data").

`download_extract_ml100k` is one path from the URL to a verified cache,
like ``pooch.retrieve``: the data root; its extracted ``ml-100k/`` if its
``u.data`` has the known sha256; else the zip, downloaded if it is not
there (to a temporary file, its sha1 checked, then moved into place
atomically), and extracted.  One process at a time downloads and extracts
into a data root (a lock file, ``<root>/.ml-100k.lock``, on POSIX); the
others wait and then find the verified folder.  `download_extract` is
the book's name for it.

d2lrec replaces ``d2l.download_extract`` because d2l writes the response
straight into the cache and only checks the hash of files already there,
so an interrupted or corrupt download poisons the cache.  A ``u.data``
that is not the real one is parsed (`d2lrec.movielens.read_u_data`), so
that the error names the first bad line rather than only a hash, and a
full or read-only disk is reported as such.
"""
import errno
import hashlib
import http.client
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

from d2lrec.movielens import U_DATA, U_INFO, read_u_data

try:  # POSIX; without it (Windows) downloads are not locked, see _lock
    import fcntl
except ImportError:  # pragma: no cover - not on the CI platform
    fcntl = None

#: name -> (url, sha1 of the zip), as in the book's ``d2l.DATA_HUB``.
DATA_HUB = {
    'ml-100k': ('https://files.grouplens.org/datasets/movielens/'
                'ml-100k.zip', 'cd4dcac4241c8a4ad7badc7ca635da8a69dddb83'),
}

#: sha256 of the real ``ml-100k/u.data``; an extracted folder whose
#: ``u.data`` has it is used without the network.
U_DATA_SHA256 = (
    '06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490')

#: Environment variable naming the data root (the folder that holds
#: ``ml-100k.zip`` and/or ``ml-100k/``).
DATA_DIR_ENV = 'D2LREC_DATA_DIR'

#: The data root used when neither an argument nor the variable is given.
DEFAULT_DATA_DIR = os.path.join('~', '.cache', 'd2lrec')

DOWNLOAD_TIMEOUT = 60  # seconds without an answer before giving up

#: Seconds to wait for another process that downloads into the same root.
LOCK_TIMEOUT = 600


class DataError(RuntimeError):
    """The MovieLens data is missing, unreachable, corrupt or wrong.

    The message says what was wrong and where to put the zip or the folder.
    d2lrec never deletes a user's files when it raises this.
    """


def get_data_dir(data_dir=None):
    """Return the data root: `data_dir`, else ``$D2LREC_DATA_DIR``, else
    ``~/.cache/d2lrec`` (D2L §16.2 uses ``../data``)."""
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    return os.path.abspath(os.path.expanduser(os.fspath(data_dir)))


def download_extract_ml100k(data_dir=None, timeout=DOWNLOAD_TIMEOUT):
    """Return the folder ``<root>/ml-100k`` holding a verified ``u.data``
    (D2L §16.2; the book's ``d2l.download_extract('ml-100k')``).

    An extracted folder whose ``u.data`` has the known sha256 is used as it
    is, without the network and without writing anything (so the root may
    be read-only); otherwise the zip is downloaded (or taken from
    ``<root>/ml-100k.zip``), checked and extracted, by one process at a
    time, into the root, created if need be (and removed again, with the
    parents it needed, if that fails).  Raises `DataError`: for a
    ``u.data`` that is not the real one the message names its first
    malformed line or out-of-range value when there is one, else the
    hash.
    """
    name = 'ml-100k'
    root = get_data_dir(data_dir)
    folder = os.path.join(root, name)
    if not os.path.lexists(folder):
        new = _missing_folders(root)
        try:
            os.makedirs(root, exist_ok=True)
        except OSError as e:
            raise _os_error(e, root, name, f'create {root}',
                            f'cannot create the data folder {root}: {e}.'
                            ) from e
        try:
            fd, lock = _lock(root, name)
            try:
                if not os.path.lexists(folder):  # else made while we waited
                    _extract(download(name, root, timeout), root, name)
            finally:
                _unlock(fd, lock)
        except BaseException:  # no empty data folder left behind
            for path in new:
                try:
                    os.rmdir(path)
                except OSError:  # not empty: another process uses it
                    break
            raise
    _verify(folder, root, name)
    return folder


def _missing_folders(path):
    """`path` and those of its parents that do not exist, deepest first."""
    missing = []
    while not os.path.lexists(path):
        missing.append(path)
        path = os.path.dirname(path)
    return missing


def download_extract(name, folder=None):
    """Return the folder of the extracted data `name` (D2L §16.2; the
    book's ``d2l.download_extract``), or ``<root>/<folder>`` with `folder`.

    d2lrec has one dataset, ``'ml-100k'``: this is
    `download_extract_ml100k` under the book's name, with its checks and
    its data root.  Another `name` raises ValueError.
    """
    if name != 'ml-100k':
        raise ValueError(f"d2lrec downloads only 'ml-100k' (D2L §16.2), "
                         f'not {name!r}')
    path = download_extract_ml100k()
    return os.path.join(os.path.dirname(path), folder) if folder else path


def _verify(folder, root, name):
    """Raise `DataError` unless `folder` holds the real ``u.data``."""
    u_data = os.path.join(folder, U_DATA)
    if not os.path.isdir(folder):
        raise DataError(f'{folder} is not a folder. It was left as it is; '
                        f'move it away. ' + where_to_put(name, root))
    if not os.path.isfile(u_data):
        roles = {U_DATA: 'the ratings, required',
                 U_INFO: 'their counts, optional'}
        missing = [f'{f} ({role})' for f, role in roles.items()
                   if not os.path.isfile(os.path.join(folder, f))]
        held = ', '.join(sorted(os.listdir(folder))) or 'nothing'
        raise DataError(
            f'{folder} exists but holds no {U_DATA}. Missing: '
            f'{", ".join(missing)}; it holds: {held}. It was left as it '
            f'is; complete it, or move it away so that d2lrec extracts '
            f'the zip again. ' + where_to_put(name, root))
    try:
        found = file_hash(u_data, 'sha256')
    except OSError as e:
        raise DataError(f'cannot read {u_data}: {e}. '
                        + where_to_put(name, root)) from e
    if found == U_DATA_SHA256:
        return
    try:
        read_u_data(folder)  # for its first concrete problem, if any
    except ValueError as e:
        raise DataError(
            f'{e}. {u_data} is not the MovieLens 100K u.data (its sha256 '
            f'differs); the files were left as they are. Replace them '
            f'with the real ones. ' + where_to_put(name, root)) from e
    raise DataError(
        f'{u_data} is not the MovieLens 100K u.data: its sha256 is '
        f'{found}, expected {U_DATA_SHA256}. It was left as it is. '
        + where_to_put(name, root))


def download(name, data_dir=None, timeout=DOWNLOAD_TIMEOUT):
    """Return the path of the verified zip `name` under the data root,
    downloading it first if it is not there (D2L §16.2 / ``d2l.download``).

    The download streams into a temporary file beside the target, its sha1
    is checked, and only a verified file is moved into place.
    """
    url, sha1 = DATA_HUB[name]
    root = get_data_dir(data_dir)
    fname = os.path.join(root, name + '.zip')
    if os.path.exists(fname):
        found = file_hash(fname, 'sha1')
        if found != sha1:
            raise DataError(
                f'{fname} is not the {name} zip: its sha1 is {found}, '
                f'expected {sha1}. It was left as it is; move it away to '
                f'download again. {where_to_put(name, root)}')
        return fname
    try:
        os.makedirs(root, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=root, prefix=f'.{name}-',
                                   suffix='.part')
    except OSError as e:
        raise _os_error(e, root, name, f'download {url}',
                        f'cannot write to the data folder {root}: {e}.'
                        ) from e
    try:
        digest = hashlib.sha1()
        with os.fdopen(fd, 'wb') as f:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                for chunk in iter(lambda: response.read(1 << 16), b''):
                    digest.update(chunk)
                    f.write(chunk)
        if digest.hexdigest() != sha1:
            raise DataError(
                f'the download from {url} is corrupt or incomplete: sha1 '
                f'{digest.hexdigest()}, expected {sha1}. Nothing was saved. '
                + where_to_put(name, root))
        os.replace(tmp, fname)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        # HTTPError (404, ...) is a URLError; timeouts and refused
        # connections are OSErrors.  A transfer cut short usually just ends
        # early and fails the sha1 check above.
        if isinstance(e, urllib.error.HTTPError):
            reason = f'HTTP {e.code} {e.reason}'
        else:
            reason = getattr(e, 'reason', None) or e
        raise _os_error(e, root, name, f'download {url}',
                        f'could not download {url}: {reason}.') from e
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return fname


def _extract(fname, root, name):
    """Extract zip `fname` into ``root/name`` through a temporary folder."""
    tmp = None
    try:
        tmp = tempfile.mkdtemp(dir=root, prefix=f'.{name}-extract-')
        with zipfile.ZipFile(fname) as zf:
            for member in zf.namelist():
                parts = member.replace('\\', '/').split('/')
                if parts[0] != name or '..' in parts or member.startswith(
                        '/'):
                    raise DataError(
                        f'{fname} holds an unexpected path {member!r}; it '
                        f'is not the {name} zip. ' + where_to_put(name,
                                                                  root))
            zf.extractall(tmp)
        try:
            os.replace(os.path.join(tmp, name), os.path.join(root, name))
        except OSError:
            # Without a lock (Windows) another process may have put its
            # folder there first; it is checked like any other.
            if not os.path.isdir(os.path.join(root, name)):
                raise
    except (zipfile.BadZipFile, OSError) as e:
        raise _os_error(e, root, name, f'extract {fname}',
                        f'could not extract {fname}: {e}.') from e
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _lock(root, name, timeout=None):
    """Create and lock ``<root>/.<name>.lock`` (``fcntl.flock``) and return
    ``(fd, path)``, waiting up to `timeout` (default `LOCK_TIMEOUT`)
    seconds for another process that holds it; raise `DataError`.

    Without ``fcntl`` (Windows) nothing is locked and ``(None, None)`` is
    returned: two processes may then both download, but the atomic
    renames still keep every file whole.  `_unlock` removes the file
    before releasing it, so a waiter that then locks the removed file sees
    that the path is gone or another file and starts over.
    """
    if fcntl is None:  # pragma: no cover - not on the CI platform
        return None, None
    path = os.path.join(root, f'.{name}.lock')
    deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None
                                   else timeout)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise _os_error(e, root, name, f'download or extract {name}',
                            f'cannot create the lock file {path}: {e}.'
                            ) from e
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise DataError(
                            f'another process has been downloading '
                            f'{name} into {root} for too long: it still '
                            f'holds {path}. Wait for it to finish and try '
                            f'again, or use another data folder '
                            f'({DATA_DIR_ENV} or data_dir=).') from None
                    time.sleep(0.05)
            opened = os.fstat(fd)
            try:
                named = os.stat(path)
            except FileNotFoundError:
                named = None
            if named and (named.st_dev, named.st_ino) == (opened.st_dev,
                                                          opened.st_ino):
                return fd, path
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder before us removed it: lock the new one


def _unlock(fd, path):
    """Remove the lock file of `_lock`, then release it."""
    if fd is None:  # pragma: no cover - not on the CI platform
        return
    try:
        os.remove(path)
    except OSError:
        pass
    os.close(fd)


def where_to_put(name, root):
    """The end of every `DataError` about the data `name` under `root`:
    where to put a local copy."""
    url = DATA_HUB[name][0]
    return (f'To use a local copy, put the zip from {url} at '
            f'{os.path.join(root, name + ".zip")}, or its extracted folder '
            f'at {os.path.join(root, name)}{os.sep}; or point '
            f'{DATA_DIR_ENV} (or data_dir=) at the folder that holds them.')


_NO_SPACE = {errno.ENOSPC, getattr(errno, 'EDQUOT', errno.ENOSPC)}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}


def _disk_problem(e, root, doing):
    """Return a message for `e` if it is a full or read-only disk (else
    None); `doing` says what d2lrec was doing, such as "download X"."""
    code = getattr(e, 'errno', None)
    if code in _NO_SPACE:
        return (f'no space left on the disk holding the data folder {root}'
                f': d2lrec could not {doing} ({e.strerror}). It removed '
                f'what it had written there and changed no other file. '
                f'Free some space (the zip takes 5 MB, the extracted '
                f'folder 16 MB) or point {DATA_DIR_ENV} (or data_dir=) at '
                f'a folder on another disk.')
    if code in _NOT_WRITABLE or isinstance(e, PermissionError):
        if not os.path.isdir(root):
            return (f'cannot create the data folder {root}: its parent is '
                    f'not writable ({e.strerror}: {e.filename}). '
                    + _write_elsewhere())
        return (f'the data folder {root} is not writable ({e.strerror}: '
                f'{e.filename}), so d2lrec cannot {doing} there. '
                + _write_elsewhere())
    return None


def _os_error(e, root, name, doing, otherwise):
    """The `DataError` for the OSError `e`, met while d2lrec tried to
    `doing` for the data `name` under `root`: a full or read-only disk is
    named as such, any other error is described by `otherwise`; both end
    by saying where to put the data."""
    return DataError((_disk_problem(e, root, doing) or otherwise) + ' '
                     + where_to_put(name, root))


def _write_elsewhere():
    return (f'Make it writable, or point {DATA_DIR_ENV} (or data_dir=) at '
            f'a folder you can write to (the default is '
            f'{DEFAULT_DATA_DIR}).')


def file_hash(path, algorithm):
    """Return the hex digest of the file at `path` (read in 1 MiB chunks)."""
    digest = hashlib.new(algorithm)
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()

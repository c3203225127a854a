"""Download and extract a dataset of D2L §16.2 ("Getting the Data"),
like ``pooch.retrieve``: the zip streams into a temporary file beside its
place, its hash is checked, and only then is it moved into place
atomically; it is extracted through a temporary folder, moved into place
with one rename.  One process at a time downloads and extracts into a
data root (a lock file, ``<root>/.<name>.lock``, on POSIX); the others
wait and then find the extracted folder.  A full or read-only disk, a
refused connection or a corrupt download is named as such
(`d2lrec.datasets.DataError`).  `d2lrec.download` calls `fetch` only
when the folder is missing.

d2lrec replaces ``d2l.download_extract`` because d2l writes the response
straight into the cache and only checks the hash of files already there,
so an interrupted or corrupt download poisons the cache.
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

from d2lrec.datasets import (DATA_DIR_ENV, DATASETS, DEFAULT_DATA_DIR,
                             DOWNLOAD_TIMEOUT, DataError, file_hash,
                             get_data_dir)
from d2lrec.movielens import where_to_put

try:  # POSIX; without it (Windows) downloads are not locked, see _lock
    import fcntl
except ImportError:  # pragma: no cover - not on the CI platform
    fcntl = None

#: Seconds to wait for another process that downloads into the same root.
LOCK_TIMEOUT = 600


def fetch(name, root, timeout=DOWNLOAD_TIMEOUT):
    """Download (or take ``<root>/<name>.zip``), check and extract the
    data `name` into ``<root>/<name>``, by one process at a time.  The
    root is created if need be, and removed again, with the parents it
    needed, if that fails."""
    folder = os.path.join(root, name)
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


def _missing_folders(path):
    """`path` and those of its parents that do not exist, deepest first."""
    missing = []
    while not os.path.lexists(path):
        missing.append(path)
        path = os.path.dirname(path)
    return missing


def download(name, data_dir=None, timeout=DOWNLOAD_TIMEOUT):
    """Return the path of the verified zip `name` under the data root,
    downloading it first if it is not there (D2L §16.2 / ``d2l.download``).

    The download streams into a temporary file beside the target, its hash
    is checked, and only a verified file is moved into place.
    """
    url, (algorithm, expected) = DATASETS[name].url, DATASETS[name].zip_hash
    root = get_data_dir(data_dir)
    fname = os.path.join(root, name + '.zip')
    if os.path.exists(fname):
        found = file_hash(fname, algorithm)
        if found != expected:
            raise DataError(
                f'{fname} is not the {name} zip: its {algorithm} is '
                f'{found}, expected {expected}. It was left as it is; move '
                f'it away to download again. {where_to_put(name, root)}')
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
        digest = hashlib.new(algorithm)
        with os.fdopen(fd, 'wb') as f:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                for chunk in iter(lambda: response.read(1 << 16), b''):
                    digest.update(chunk)
                    f.write(chunk)
        if digest.hexdigest() != expected:
            raise DataError(
                f'the download from {url} is corrupt or incomplete: '
                f'{algorithm} {digest.hexdigest()}, expected {expected}. '
                f'Nothing was saved. ' + where_to_put(name, root))
        os.replace(tmp, fname)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        # HTTPError (404, ...) is a URLError; timeouts and refused
        # connections are OSErrors.  A transfer cut short usually just ends
        # early and fails the hash check above.
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


"""Download, verify and extract MovieLens 100K (D2L §16.2, "Getting the Data").

d2lrec replaces ``d2l.download_extract`` because d2l writes the response
straight into the cache and only checks the hash of files already there, so
an interrupted or corrupt download poisons the cache.  Here the zip streams
to a temporary file, its hash is checked after every download, and only then
is it moved into place atomically (the discipline of ``pooch``).  One
process at a time downloads and extracts into a data root (a lock file,
``<root>/.ml-100k.lock``, on POSIX); the others wait and then find the
verified folder.  A ``u.data`` that is not the real one is parsed, so that
the error names the first bad line rather than only a hash, and a full or
read-only disk is reported as such.
"""
import csv
import errno
import hashlib
import http.client
import os
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

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

#: The columns of ``u.data`` (tab-separated integers, no header) and the
#: range of its ratings (D2L §16.2).
U_DATA_COLUMNS = ['user_id', 'item_id', 'rating', 'timestamp']
RATING_RANGE = (1, 5)

#: The files of ``ml-100k/`` that d2lrec reads: ``u.data`` is required;
#: ``u.info`` ("943 users", "1682 items", "100000 ratings") is optional
#: and, when present, bounds the ids and the number of ratings.
U_DATA, U_INFO = 'u.data', 'u.info'


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


def file_hash(path, algorithm):
    """Return the hex digest of the file at `path` (read in 1 MiB chunks)."""
    digest = hashlib.new(algorithm)
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _where_to_put(name, root):
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
                     + _where_to_put(name, root))


def _write_elsewhere():
    return (f'Make it writable, or point {DATA_DIR_ENV} (or data_dir=) at '
            f'a folder you can write to (the default is '
            f'{DEFAULT_DATA_DIR}).')


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
                f'download again. {_where_to_put(name, root)}')
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
                + _where_to_put(name, root))
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
                        f'is not the {name} zip. ' + _where_to_put(name,
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


def download_extract_ml100k(data_dir=None, timeout=DOWNLOAD_TIMEOUT):
    """Return the folder ``<root>/ml-100k`` holding a verified ``u.data``
    (D2L §16.2; the book's ``d2l.download_extract('ml-100k')``).

    An extracted folder whose ``u.data`` has the known sha256 is used as it
    is, without the network and without writing anything (so the root may
    be read-only); otherwise the zip is downloaded (or taken from
    ``<root>/ml-100k.zip``), checked and extracted, by one process at a
    time.  Raises `DataError`: for a ``u.data`` that is not the real one
    the message names its first malformed line or out-of-range value when
    there is one, else the hash.
    """
    name = 'ml-100k'
    root = get_data_dir(data_dir)
    folder = os.path.join(root, name)
    u_data = os.path.join(folder, U_DATA)
    if not os.path.lexists(folder):
        try:
            os.makedirs(root, exist_ok=True)
        except OSError as e:
            raise _os_error(e, root, name, f'create {root}',
                            f'cannot create the data folder {root}: {e}.'
                            ) from e
        fd, lock = _lock(root, name)
        try:
            if not os.path.lexists(folder):  # else made while we waited
                _extract(download(name, root, timeout), root, name)
        finally:
            _unlock(fd, lock)
    if not os.path.isdir(folder):
        raise DataError(f'{folder} is not a folder. It was left as it is; '
                        f'move it away. ' + _where_to_put(name, root))
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
            f'the zip again. ' + _where_to_put(name, root))
    try:
        found = file_hash(u_data, 'sha256')
    except OSError as e:
        raise DataError(f'cannot read {u_data}: {e}. '
                        + _where_to_put(name, root)) from e
    if found != U_DATA_SHA256:
        problem = _check_u_data(folder)[1]
        if problem:
            raise DataError(
                f'{problem}. {u_data} is not the MovieLens 100K u.data '
                f'(its sha256 differs); the files were left as they are. '
                f'Replace them with the real ones. '
                + _where_to_put(name, root))
        raise DataError(
            f'{u_data} is not the MovieLens 100K u.data: its sha256 is '
            f'{found}, expected {U_DATA_SHA256}. It was left as it is. '
            + _where_to_put(name, root))
    return folder


def read_u_data(folder):
    """Return ``folder/u.data`` as a DataFrame with the columns
    `U_DATA_COLUMNS`, all int64, checked (D2L §16.2 reads it unchecked).

    Raises `DataError` naming the file, the 1-based line and the line
    itself for a malformed line (not four tab-separated integers), a
    rating outside `RATING_RANGE` or an id below 1 or beyond the counts.
    The counts are those of ``u.info`` when the folder has one (the real
    one does; then the number of ratings must match too).  Without it, an
    id may not exceed the number of distinct ids in the file, because the
    book sizes its rating matrix by that number (a larger id would fall
    outside it).  pandas' C parser reads the file (~15 ms for the real
    one); only when it fails is the file read again line by line to find
    the bad line.
    """
    folder = os.path.abspath(folder)
    data, problem = _check_u_data(folder)
    if problem:
        raise DataError(
            f'{problem}. It was left as it is; fix it or replace it with '
            f'the real file. ' + _where_to_put('ml-100k',
                                               os.path.dirname(folder)))
    return data


_INT = re.compile(rb'\s*[-+]?[0-9]+\s*')


def _show(line):
    """`line` (bytes) for a message: its repr, shortened."""
    text = line.rstrip(b'\r\n').decode('utf-8', 'replace')
    return repr(text if len(text) <= 80 else text[:77] + '...')


def _line(path, number):
    """The bytes of line `number` (1-based) of the file at `path`."""
    with open(path, 'rb') as f:
        for n, line in enumerate(f, 1):
            if n == number:
                return line
    return b''


def _malformed_line(path):
    """The problem of the first line of `path` that is not four
    tab-separated integers of 64 bits, or None (the slow pass)."""
    with open(path, 'rb') as f:
        for n, line in enumerate(f, 1):
            where = f'{path}, line {n}'
            fields = line.rstrip(b'\r\n').split(b'\t')
            if fields == [b'']:
                return f'{where} is empty'
            if len(fields) != len(U_DATA_COLUMNS):
                return (f'{where}: expected {len(U_DATA_COLUMNS)} '
                        f'tab-separated fields (user id, item id, rating, '
                        f'timestamp), got {len(fields)}: {_show(line)}')
            for column, field in zip(U_DATA_COLUMNS, fields):
                what = column.replace('_', ' ')
                if not _INT.fullmatch(field):
                    return (f'{where}: the {what} {_show(field)} is not an '
                            f'integer: {_show(line)}')
                if not -2**63 <= int(field) < 2**63:
                    return (f'{where}: the {what} {_show(field)} does not '
                            f'fit in 64 bits: {_show(line)}')
    return None


def _read_u_info(folder):
    """Return ``({'users': n, 'items': m[, 'ratings': k]}, None)`` from
    ``folder/u.info``, ``(None, None)`` without it, or ``(None, problem)``.
    """
    path = os.path.join(folder, U_INFO)
    if not os.path.isfile(path):
        return None, None
    counts = {}
    with open(path, 'rb') as f:
        lines = f.read().splitlines()
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if (len(parts) != 2 or not re.fullmatch(rb'[0-9]+', parts[0])
                or parts[1] not in (b'users', b'items', b'ratings')):
            return None, (f'{path}, line {n}: expected "<count> users", '
                          f'"<count> items" or "<count> ratings", got '
                          f'{_show(line)}')
        counts[parts[1].decode()] = int(parts[0])
    missing = [w for w in ('users', 'items') if w not in counts]
    if missing:
        return None, (f'{path} gives no count of {" or ".join(missing)}: '
                      f'expected lines such as "943 users" and "1682 '
                      f'items"')
    return counts, None


def _check_u_data(folder):
    """Return ``(data, None)`` for a good ``folder/u.data``, else
    ``(None, problem)``, the first concrete problem (see `read_u_data`)."""
    import pandas as pd  # here, so that importing this module stays light

    path = os.path.join(folder, U_DATA)
    try:
        with open(path, 'rb') as f:
            first = f.readline()
    except OSError as e:
        return None, f'cannot read {path}: {e}'
    if not first:
        return None, f'{path} is empty (0 bytes)'
    try:
        # With another number of fields on line 1, pandas would take the
        # first column as the index or drop columns without an error.
        if first.count(b'\t') != len(U_DATA_COLUMNS) - 1:
            raise ValueError('line 1 has the wrong number of fields')
        # Each row is the line of the same number: no header, no quoting,
        # blank lines kept (and rejected), empty fields not read as NaN.
        data = pd.read_csv(path, sep='\t', names=U_DATA_COLUMNS,
                           dtype='int64', engine='c', header=None,
                           quoting=csv.QUOTE_NONE, skip_blank_lines=False,
                           na_filter=False)
    except (ValueError, OverflowError) as e:  # ParserError is a ValueError
        return None, (_malformed_line(path)
                      or f'{path} could not be parsed: {e}')
    info, problem = _read_u_info(folder)
    if problem:
        return None, problem

    def at(mask, what):
        row = int(mask.argmax())  # the first True
        value = data.iat[row, data.columns.get_loc(what)]
        line = _line(path, row + 1)
        return (f'{path}, line {row + 1}: the {what.replace("_", " ")} '
                f'{value}', _show(line))

    low, high = RATING_RANGE
    ratings = data.rating.to_numpy()
    bad = (ratings < low) | (ratings > high)
    if bad.any():
        where, line = at(bad, 'rating')
        return None, f'{where} is outside {low}..{high}: {line}'
    columns = (('user_id', 'users'), ('item_id', 'items'))
    for column, word in columns:
        ids = data[column].to_numpy()
        if ids.min() < 1:
            where, line = at(ids < 1, column)
            return None, f'{where} is not positive (ids start at 1): {line}'
        if info and ids.max() > info[word]:
            where, line = at(ids > info[word], column)
            return None, (f'{where} is beyond the {info[word]} {word} '
                          f'counted in {os.path.join(folder, U_INFO)}: '
                          f'{line}')
    if info and 'ratings' in info and len(data) != info['ratings']:
        return None, (f'{path} holds {len(data)} ratings, but '
                      f'{os.path.join(folder, U_INFO)} counts '
                      f'{info["ratings"]}: the file is incomplete or has '
                      f'lines too many')
    for column, word in columns:
        ids = data[column].to_numpy()
        distinct = len(pd.unique(ids))
        if ids.max() > distinct:
            where, line = at(ids > distinct, column)
            return None, (f'{where} is beyond the {distinct} distinct '
                          f'{column.replace("_", " ")}s in the file: the '
                          f'ids must run 1..{distinct}, as the book sizes '
                          f'its rating matrix by the number of distinct '
                          f'ids: {line}')
    return data, None

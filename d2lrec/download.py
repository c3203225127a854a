"""Download, verify and extract MovieLens 100K (D2L §16.2, "Getting the Data").

d2lrec replaces ``d2l.download_extract`` because d2l writes the response
straight into the cache and only checks the hash of files already there, so
an interrupted or corrupt download poisons the cache.  Here the zip streams
to a temporary file, its hash is checked after every download, and only then
is it moved into place atomically (the discipline of ``pooch``).
"""
import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile

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
        raise DataError(f'cannot write to the data folder {root}: {e}. '
                        + _where_to_put(name, root)) from e
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
        raise DataError(f'could not download {url}: {reason}. '
                        + _where_to_put(name, root)) from e
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
        os.replace(os.path.join(tmp, name), os.path.join(root, name))
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError(f'could not extract {fname}: {e}. '
                        + _where_to_put(name, root)) from e
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def download_extract_ml100k(data_dir=None, timeout=DOWNLOAD_TIMEOUT):
    """Return the folder ``<root>/ml-100k`` holding a verified ``u.data``
    (D2L §16.2; the book's ``d2l.download_extract('ml-100k')``).

    An extracted folder whose ``u.data`` has the known sha256 is used as it
    is, without the network; otherwise the zip is downloaded (or taken from
    ``<root>/ml-100k.zip``), checked and extracted.  Raises `DataError`.
    """
    name = 'ml-100k'
    root = get_data_dir(data_dir)
    folder = os.path.join(root, name)
    u_data = os.path.join(folder, 'u.data')
    if not os.path.exists(folder):
        _extract(download(name, root, timeout), root, name)
    if not os.path.isfile(u_data):
        raise DataError(f'{folder} exists but holds no u.data. It was left '
                        f'as it is; complete or move it. '
                        + _where_to_put(name, root))
    found = file_hash(u_data, 'sha256')
    if found != U_DATA_SHA256:
        raise DataError(
            f'{u_data} is not the MovieLens 100K u.data: its sha256 is '
            f'{found}, expected {U_DATA_SHA256}. It was left as it is. '
            + _where_to_put(name, root))
    return folder

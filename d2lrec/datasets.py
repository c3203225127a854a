"""The data of D2L §16.2, "Getting the Data": where MovieLens 100K comes
from, its hashes and files, how it splits, where it is kept, and the
error that says what is wrong with it.  No mxnet, no network:
`d2lrec.download` verifies it, `d2lrec.fetch` downloads it.
"""
import hashlib
import os

#: name -> (url, sha1 of the zip), as in the book's ``d2l.DATA_HUB``.
DATA_HUB = {
    'ml-100k': ('https://files.grouplens.org/datasets/movielens/'
                'ml-100k.zip', 'cd4dcac4241c8a4ad7badc7ca635da8a69dddb83'),
}

#: sha256 of the real ``ml-100k/u.data``; an extracted folder whose
#: ``u.data`` has it is used without the network.
U_DATA_SHA256 = (
    '06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490')

#: The ratings file of ``ml-100k/`` (tab-separated integers, no header,
#: in these columns), the range of its ratings, and the canonical
#: train/test folds shipped beside it (``u1.base``/``u1.test`` ...).
U_DATA = 'u.data'
U_DATA_COLUMNS = ['user_id', 'item_id', 'rating', 'timestamp']
RATING_RANGE = (1, 5)
FOLDS = ('u1', 'u2', 'u3', 'u4', 'u5')

#: How `d2lrec.data.split_data_ml100k` splits it: D2L §16.2's two modes,
#: the book's own random split as it draws in a fresh process, the folds.
SPLIT_MODES = ('random', 'seq-aware', 'book') + FOLDS

#: The environment variable naming the data root (the folder that holds
#: ``ml-100k.zip`` and/or ``ml-100k/``), the root used without it or an
#: argument, and the seconds without an answer before a download fails.
DATA_DIR_ENV = 'D2LREC_DATA_DIR'
DEFAULT_DATA_DIR = os.path.join('~', '.cache', 'd2lrec')
DOWNLOAD_TIMEOUT = 60


class DataError(RuntimeError):
    """The MovieLens data is missing, unreachable, corrupt or wrong.  The
    message says what was wrong and where to put the zip or the folder;
    d2lrec never deletes a user's files when it raises this."""


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

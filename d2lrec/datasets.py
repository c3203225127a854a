"""The datasets of D2L §16.2, "Getting the Data", one record each, where
they are kept, and the error that says what is wrong with them.
"""
import collections
import hashlib
import os

#: A dataset: its `name` (its zip's and folder's) and `title`, its zip's
#: `url` and `zip_hash`; in its folder, the `ratings` (`sep`-separated
#: `COLUMNS` on the `rating_range`; a None `ratings_hash`: the zip is
#: checked), an `info` file of counts or None, and the train/test `folds`.
Dataset = collections.namedtuple(
    'Dataset', 'name title url zip_hash ratings ratings_hash sep '
    'rating_range info folds')
COLUMNS = ['user_id', 'item_id', 'rating', 'timestamp']
GROUPLENS = 'https://files.grouplens.org/datasets/movielens/'

#: MovieLens 100K, the book's, and 1M, the AutoRec paper's (6,040 users,
#: 3,706 items), by name.  `DEFAULT` is the book's.
DATASETS = {dataset.name: dataset for dataset in (
    Dataset(name='ml-100k', title='MovieLens 100K',
            url=GROUPLENS + 'ml-100k.zip',
            zip_hash=('sha1', 'cd4dcac4241c8a4ad7badc7ca635da8a69dddb83'),
            ratings='u.data', ratings_hash=(
                'sha256', '06416e597f82b7342361e41163890c81'
                          '036900f418ad91315590814211dca490'),
            sep='\t', rating_range=(1, 5), info='u.info',
            folds=('u1', 'u2', 'u3', 'u4', 'u5')),
    Dataset(name='ml-1m', title='MovieLens 1M',
            url=GROUPLENS + 'ml-1m.zip',
            zip_hash=('md5', 'c4d9eecfca2ab87c1945afe126590906'),
            ratings='ratings.dat', ratings_hash=None, sep='::',
            rating_range=(1, 5), info=None, folds=()))}
DEFAULT = 'ml-100k'

#: name -> (url, digest of the zip), as in the book's ``d2l.DATA_HUB``.
DATA_HUB = {d.name: (d.url, d.zip_hash[1]) for d in DATASETS.values()}

RATING_RANGE = DATASETS[DEFAULT].rating_range  # every dataset's here

#: How `d2lrec.data.split_data_ml100k` splits: D2L §16.2's two modes,
#: the book's own random split as it draws in a fresh process, the folds.
FOLDS = DATASETS[DEFAULT].folds
SPLIT_MODES = ('random', 'seq-aware', 'book') + FOLDS

#: The variable naming the data root (the folder of the zips and their
#: folders), the root without it, a download's seconds without answer.
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

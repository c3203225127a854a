"""The verified folder of a dataset (D2L §16.2, "Getting the Data"),
under the book's name `download_extract`; what is wrong with a folder
that fails the check is `d2lrec.movielens.folder_problem`'s to say.
"""
import os

from d2lrec import datasets
from d2lrec.datasets import DOWNLOAD_TIMEOUT, file_hash, get_data_dir


def download_extract(name, folder=None, data_dir=None,
                     timeout=DOWNLOAD_TIMEOUT):
    """Return ``<root>/<name>``, the verified folder of the dataset `name`
    (D2L §16.2's ``d2l.download_extract``), or ``<root>/<folder>``.

    A folder whose ratings file (else, zip) has the record's hash is used
    without the network or writing anything; without a folder, the zip
    is downloaded or taken from the root, checked and extracted
    (`d2lrec.fetch.fetch`).  Raises `DataError`, or ValueError.
    """
    if name not in datasets.DATASETS:
        raise ValueError(f'd2lrec downloads {tuple(datasets.DATASETS)} '
                         f'(D2L §16.2), not {name!r}')
    dataset = datasets.DATASETS[name]
    root = get_data_dir(data_dir)
    path = os.path.join(root, name)
    if not os.path.lexists(path):
        from d2lrec.fetch import fetch
        fetch(name, root, timeout)
    algorithm, digest = dataset.ratings_hash or dataset.zip_hash
    try:
        found = file_hash(os.path.join(path, dataset.ratings)
                          if dataset.ratings_hash else path + '.zip',
                          algorithm)
    except OSError:
        found = None
    if found != digest:
        from d2lrec.movielens import folder_problem
        raise folder_problem(dataset, path, root)
    return os.path.join(root, folder) if folder else path


def download_extract_ml100k(data_dir=None, timeout=DOWNLOAD_TIMEOUT):
    """Return the verified folder ``<root>/ml-100k`` (D2L §16.2; the
    book's ``d2l.download_extract('ml-100k')``)."""
    return download_extract('ml-100k', data_dir=data_dir, timeout=timeout)

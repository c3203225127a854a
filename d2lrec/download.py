"""The verified folder of MovieLens 100K (D2L §16.2, "Getting the Data"):
`download_extract_ml100k`, and `download_extract` under the book's name.

A folder whose ``u.data`` has the known sha256 is used as it is, without
the network.  Otherwise the zip is downloaded and extracted
(`d2lrec.fetch`), and a folder that still fails the check raises
`d2lrec.datasets.DataError` naming what is wrong, down to its first
malformed line (`d2lrec.movielens.folder_problem`).
"""
import os

from d2lrec import datasets
from d2lrec.datasets import DOWNLOAD_TIMEOUT, U_DATA, file_hash, get_data_dir


def download_extract_ml100k(data_dir=None, timeout=DOWNLOAD_TIMEOUT):
    """Return the folder ``<root>/ml-100k`` holding a verified ``u.data``
    (D2L §16.2; the book's ``d2l.download_extract('ml-100k')``).

    An extracted folder is used as it is, without the network or writing
    anything (the root may be read-only); without one, the zip is
    downloaded (or taken from ``<root>/ml-100k.zip``), checked and
    extracted (`d2lrec.fetch.fetch`).  Raises `DataError`.
    """
    name = 'ml-100k'
    root = get_data_dir(data_dir)
    folder = os.path.join(root, name)
    if not os.path.lexists(folder):
        from d2lrec.fetch import fetch
        fetch(name, root, timeout)
    try:
        found = file_hash(os.path.join(folder, U_DATA), 'sha256')
    except OSError:
        found = None
    if found != datasets.U_DATA_SHA256:
        from d2lrec.movielens import folder_problem
        raise folder_problem(folder, root, name)
    return folder


def download_extract(name, folder=None):
    """Return the folder of the extracted data `name` (D2L §16.2; the
    book's ``d2l.download_extract``), or ``<root>/<folder>`` with `folder`:
    `download_extract_ml100k` under the book's name.  Another `name` than
    ``'ml-100k'`` raises ValueError.
    """
    if name != 'ml-100k':
        raise ValueError(f"d2lrec downloads only 'ml-100k' (D2L §16.2), "
                         f'not {name!r}')
    path = download_extract_ml100k()
    return os.path.join(os.path.dirname(path), folder) if folder else path

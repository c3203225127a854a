"""Shared fixtures: numpy mode, the real MovieLens 100K (or a skip), a
synthetic one (with titles, `synthetic_titles`; with folds,
`synthetic_folds`) and its zip.  The plain helpers they use are in
support.py.

`d2lrec.download` checks ``u.data`` against the real file's sha256, so
tests that read synthetic data patch the record's ``ratings_hash`` to
the synthetic file's hash (`set_u_data_hash`, `synthetic_ml100k`).
"""
import hashlib
import os

import numpy as np
import pytest

import d2lrec.datasets as DATASETS
from d2lrec.download import download_extract_ml100k
from support import (FOLDS, NUM_ITEMS, NUM_RATINGS, NUM_USERS, make_ratings,
                     make_zip, patch_dataset, refused_port, sha256,
                     u_data_bytes, u_info_bytes, u_item_bytes)


@pytest.fixture
def numpy_mode():
    """MXNet's NumPy mode, as the book's notebooks set it, for a test that
    writes MXNet code of its own; d2lrec's functions need none, so the
    other tests call them without it."""
    from mxnet import npx
    npx.set_np()
    yield
    npx.reset_np()


@pytest.fixture
def refused_url():
    """A URL whose connection is refused (nothing listens there)."""
    return f'http://127.0.0.1:{refused_port()}/ml-100k.zip'


@pytest.fixture
def no_network(monkeypatch, refused_url):
    """Point the download of ml-100k at a refused port."""
    patch_dataset(monkeypatch, url=refused_url, zip_hash=('sha1', '0' * 40))


@pytest.fixture(scope='module')
def real_data():
    """Skip unless the real MovieLens 100K is under ``$D2LREC_DATA_DIR``;
    in CI (``CI`` set) fail instead."""
    try:
        if not os.environ.get('D2LREC_DATA_DIR'):
            raise DATASETS.DataError('D2LREC_DATA_DIR is not set')
        download_extract_ml100k(timeout=5)
    except DATASETS.DataError as e:
        if os.environ.get('CI'):
            pytest.fail(f'CI needs the real ML-100K: {e}')
        pytest.skip(f'no real ML-100K: {e}')


@pytest.fixture(scope='module')
def ml100k(real_data):
    """``(data, num_users, num_items)`` of the real MovieLens 100K."""
    from d2lrec.data import read_data_ml100k  # it loads mxnet
    return read_data_ml100k()


@pytest.fixture
def ml100k_root(tmp_path):
    """Write a synthetic ``tmp_path/ml-100k/u.data`` and its ``u.info``
    (the counts, in the real file's format); return
    ``(tmp_path, dataframe_written)``."""
    df = make_ratings()
    (tmp_path / 'ml-100k').mkdir()
    (tmp_path / 'ml-100k' / 'u.data').write_bytes(u_data_bytes(df))
    (tmp_path / 'ml-100k' / 'u.info').write_bytes(u_info_bytes(
        NUM_USERS, NUM_ITEMS, NUM_RATINGS))
    return tmp_path, df


@pytest.fixture
def set_u_data_hash(monkeypatch):
    """Return a function that makes `d2lrec.download` accept the given
    ``u.data`` (a path or bytes) as MovieLens 100K."""
    def patch(data):
        if not isinstance(data, bytes):
            with open(data, 'rb') as f:
                data = f.read()
        patch_dataset(monkeypatch, ratings_hash=('sha256', sha256(data)))
        return sha256(data)
    return patch


@pytest.fixture
def synthetic_ml100k(ml100k_root, set_u_data_hash, no_network):
    """`ml100k_root` made acceptable to d2lrec, with the download URL
    pointing at a refused port so that nothing can reach the network."""
    root, df = ml100k_root
    set_u_data_hash(root / 'ml-100k' / 'u.data')
    return root, df


@pytest.fixture
def synthetic_titles(synthetic_ml100k):
    """The root of `synthetic_ml100k`, its ``ml-100k/`` with a ``u.item``
    (`u_item_bytes`)."""
    root, _ = synthetic_ml100k
    (root / 'ml-100k' / 'u.item').write_bytes(u_item_bytes())
    return root


@pytest.fixture
def synthetic_folds(synthetic_ml100k):
    """`synthetic_ml100k` with five folds (`FOLDS`) and a u.item, as in the
    zip: ``(root, dataframe_written)``."""
    root, df = synthetic_ml100k
    folder = root / 'ml-100k'
    (folder / 'u.item').write_bytes(u_item_bytes())
    part = np.random.RandomState(1).permutation(len(df)) % 5
    for k, fold in enumerate(FOLDS):
        for suffix, rows in (('test', df[part == k]),
                             ('base', df[part != k])):
            rows.to_csv(folder / f'{fold}.{suffix}', sep='\t',
                        header=False, index=False)
    return root, df


@pytest.fixture
def ratings(synthetic_ml100k):
    """``(data, num_users, num_items)`` of `synthetic_ml100k`, as read by
    d2lrec."""
    from d2lrec.data import read_data_ml100k  # it loads mxnet
    return read_data_ml100k(synthetic_ml100k[0])


@pytest.fixture
def ml100k_zip():
    """A synthetic ``ml-100k.zip``: ``(zip_bytes, zip_sha1,
    u_data_sha256, dataframe)``; its top folder is ``ml-100k/``."""
    df = make_ratings()
    u_data = u_data_bytes(df)
    data = make_zip({'ml-100k/README': b'Synthetic MovieLens 100K.\n',
                     'ml-100k/u.data': u_data})
    return data, hashlib.sha1(data).hexdigest(), sha256(u_data), df

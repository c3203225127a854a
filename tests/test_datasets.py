"""The datasets' records (d2lrec.datasets): MovieLens 1M, one record
beside the book's 100K, downloaded, verified and read by the same code,
and trained on by ``python -m d2lrec train --dataset ml-1m``.

No real ML-1M can be had here, so its real loading code runs on a
synthetic zip in its exact format: ``ml-1m/ratings.dat``, one
``UserID::MovieID::Rating::Timestamp`` line per rating, its movie ids
with gaps (3,706 of 1..3,952 in the real file), served by a loopback
HTTP server that the test starts on 127.0.0.1.
"""
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

import d2lrec.datasets as DS
from d2lrec.data import Ratings, read_data
from support import ZipServer, make_ratings, make_zip, patch_dataset

pytestmark = pytest.mark.usefixtures('no_network')

#: The synthetic ML-1M: 30 users, and 40 movies whose ids have gaps.
MOVIE_IDS = np.arange(1, 41) * 3 - 1


def ratings_dat(df):
    """`df` (ids 1..n) as the bytes of ML-1M's ``ratings.dat``, its movie
    ids those of `MOVIE_IDS`."""
    return ''.join(f'{u}::{MOVIE_IDS[i - 1]}::{r}::{t}\n' for u, i, r, t in
                   df.itertuples(index=False)).encode()


@pytest.fixture
def ml1m(monkeypatch):
    """The synthetic ML-1M served on loopback, its record pointing there:
    ``(server, dataframe written)``."""
    df = make_ratings()
    data = make_zip({'ml-1m/README': b'Synthetic MovieLens 1M.\n',
                     'ml-1m/ratings.dat': ratings_dat(df)})
    server = ZipServer({'/ml-1m.zip': data})
    patch_dataset(monkeypatch, 'ml-1m', url=server.url('/ml-1m.zip'),
                  zip_hash=('md5', hashlib.md5(data).hexdigest()))
    yield server, df
    server.stop()


def test_ml_1m_is_one_record():
    ml1m = DS.DATASETS['ml-1m']
    assert (ml1m.ratings, ml1m.sep, ml1m.folds) == ('ratings.dat', '::', ())
    assert ml1m.url.endswith('/ml-1m.zip') and ml1m.zip_hash[0] == 'md5'


def test_ml_1m_is_downloaded_verified_and_read(ml1m, tmp_path):
    server, df = ml1m
    ratings = read_data('ml-1m', tmp_path)
    assert isinstance(ratings, Ratings)
    assert (ratings.num_users, ratings.num_items) == (30, 40)
    # the movie ids with gaps, renumbered 1..40 in their order
    assert ratings.data.item_id.max() == 40
    np.testing.assert_array_equal(ratings.data.to_numpy(), df.to_numpy())
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ml-1m',
                                                          'ml-1m.zip']
    again = read_data('ml-1m', tmp_path)  # from the cache, no download
    assert again.data.equals(ratings.data)
    assert server.requests == ['/ml-1m.zip']


def test_an_ml_1m_folder_is_checked_by_its_zip(ml1m, tmp_path):
    read_data('ml-1m', tmp_path)
    (tmp_path / 'ml-1m.zip').write_bytes(b'not the zip')
    with pytest.raises(DS.DataError, match='is not the MovieLens 1M zip'):
        read_data('ml-1m', tmp_path)


#: ``python -m d2lrec`` with the record of ml-1m pointing at the server.
CLI = '''
import sys
import d2lrec.datasets as DS
url, md5 = sys.argv[1:3]
DS.DATASETS['ml-1m'] = DS.DATASETS['ml-1m']._replace(
    url=url, zip_hash=('md5', md5))
from d2lrec.lab.cli import main
sys.exit(main(sys.argv[3:]))
'''


def test_the_command_line_trains_on_ml_1m(ml1m, tmp_path):
    server, _ = ml1m
    record = DS.DATASETS['ml-1m']
    out = subprocess.run(
        [sys.executable, '-c', CLI, record.url, record.zip_hash[1], 'train',
         '--dataset', 'ml-1m', '--data-dir', str(tmp_path), '--hidden',
         '20', '--epochs', '2', '--batch-size', '8', '--json'],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.splitlines()[-1])
    assert result['model'] == 'autorec' and len(result['history']) == 2
    assert 0 < result['test_rmse'] < 4
    assert server.requests == ['/ml-1m.zip']


def test_ml_1m_has_no_folds():
    from d2lrec.lab.config import Config
    with pytest.raises(ValueError, match='ml-1m has none'):
        Config(dataset='ml-1m', split_mode='u1')

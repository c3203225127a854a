"""The chapter on the real MovieLens 100K, through the command line.

Needs the real data under ``$D2LREC_DATA_DIR`` (CI points it at
``../shared/data``); elsewhere these tests are skipped, except in CI, where
missing data is an error.  Each run takes a few seconds on 2 CPU cores.
"""
import json
import os
import statistics
import subprocess
import sys

import pytest

from d2lrec.download import DataError, download_extract_ml100k


@pytest.fixture(scope='module')
def real_data():
    try:
        if not os.environ.get('D2LREC_DATA_DIR'):
            raise DataError('D2LREC_DATA_DIR is not set')
        download_extract_ml100k(timeout=5)
    except DataError as e:
        if os.environ.get('CI'):
            pytest.fail(f'CI needs the real ML-100K: {e}')
        pytest.skip(f'no real ML-100K: {e}')


def train_json(*args):
    out = subprocess.run(
        [sys.executable, '-m', 'd2lrec', 'train', '--json', *args],
        capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.usefixtures('real_data')
def test_chapter_reaches_the_books_rmse_and_repeats():
    runs = {seed: train_json('--seed', str(seed)) for seed in (0, 1, 2)}
    rmses = [r['test_rmse'] for r in runs.values()]
    print('test RMSE for seeds 0, 1, 2:', rmses)
    assert statistics.mean(rmses) <= 0.905
    assert max(rmses) <= 0.912
    for r in runs.values():
        assert r['epochs'] == 25
        assert r['seconds'] > 0 and r['devices']
        assert 0 < r['train_loss'] < 0.1
    assert train_json('--seed', '0')['test_rmse'] == runs[0]['test_rmse']

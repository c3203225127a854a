"""Integration tests on the real MovieLens 100K: the chapter and the
other models, divergence, save/recommend and Ctrl-C, through the command
line (``python -m d2lrec``).

Needs the real data under ``$D2LREC_DATA_DIR`` (CI points it at
``../shared/data``); elsewhere these tests are skipped, except in CI, where
missing data is an error.  Each run takes a few seconds on 2 CPU cores.
"""
import json
import os
import re
import signal
import statistics
import subprocess
import sys

import pytest

from support import train_json


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


def cli(*args, env=None):
    """Run ``python -m d2lrec`` on the real data; return the process."""
    out = subprocess.run([sys.executable, '-m', 'd2lrec', *args],
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, **(env or {})})
    assert 'Traceback' not in out.stderr
    return out


@pytest.mark.usefixtures('real_data')
def test_same_rmse_with_one_or_two_threads():
    one = cli('train', '--json', '--epochs', '5',
              env={'OMP_NUM_THREADS': '1'})
    two = cli('train', '--json', '--epochs', '5',
              env={'OMP_NUM_THREADS': '2'})
    assert one.returncode == two.returncode == 0
    rmse = [json.loads(p.stdout.splitlines()[-1])['test_rmse']
            for p in (one, two)]
    assert rmse[0] == rmse[1]


@pytest.mark.usefixtures('real_data')
@pytest.mark.parametrize('args,worst', [
    (('--model', 'uautorec'), 1.05), (('--model', 'mf'), 0.95),
    (('--split', 'u1'), 0.95), (('--model', 'mf', '--split', 'seq-aware'),
                                1.10)])
def test_other_models_and_splits_on_the_real_data(args, worst):
    result = train_json(*args)
    assert 0.8 < result['test_rmse'] < worst
    assert result['model'] == (args[1] if args[0] == '--model'
                               else 'autorec')


@pytest.mark.usefixtures('real_data')
def test_a_finite_blow_up_is_called_divergence():
    """Adam with lr 1e9 stays finite (train loss ~1e20, test RMSE ~1e11)
    but gives no usable model: exit 1 with one message, no result."""
    out = cli('train', '--epochs', '3', '--lr', '1e9')
    assert out.returncode == 1 and out.stdout == ''
    errors = [line for line in out.stderr.splitlines()
              if line.startswith('d2lrec: error:')]
    assert len(errors) == 1
    assert re.match(r'd2lrec: error: training diverged in epoch [123]/3: '
                    r'the test RMSE is [\d.e+]+, more than 4, the width of '
                    r'the rating scale 1-5\. Likely cause: learning rate '
                    r'too high\? got lr=1e\+09; ', errors[0])


@pytest.mark.usefixtures('real_data')
def test_save_and_recommend_with_titles(tmp_path):
    path = str(tmp_path / 'autorec.params')
    assert cli('train', '--epochs', '3', '--save', path).returncode == 0
    out = cli('recommend', '--user', '1', '-k', '5', '--load', path)
    assert out.returncode == 0
    movies = [line for line in out.stdout.splitlines()
              if not line.startswith('#')]
    assert len(movies) == 10  # 5 recommendations, 5 of the user's own
    # user 1 rated Toy Story (1995) 5 stars
    assert any('Toy Story' in line for line in movies[5:]) or all(
        line.split()[0] == '5' for line in movies[5:])


@pytest.mark.usefixtures('real_data')
def test_ctrl_c_during_training_leaves_nothing(tmp_path):
    path = tmp_path / 'model.params'
    process = subprocess.Popen(
        [sys.executable, '-m', 'd2lrec', 'train', '--epochs', '500',
         '--save', str(path)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:  # wait until training runs
            if line.startswith('epoch 2/'):
                break
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert 'interrupted' in err and 'Traceback' not in err
    assert list(tmp_path.iterdir()) == []

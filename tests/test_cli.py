"""The command line and the protocols beyond the chapter, on synthetic
data: presets, folds, clipping and unseen defaults against NumPy, the
validation search, save/recommend, devices, divergence and Ctrl-C."""
import dataclasses
import json

import mxnet as mx
import numpy as onp
import pandas as pd
import pytest
from mxnet import np

from conftest import u_item_bytes

import d2lrec.devices as devices_module
from d2lrec import cli, experiment
from d2lrec.config import TUNED, Config
from d2lrec.data import read_data_ml100k, split_data_ml100k
from d2lrec.download import DataError
from d2lrec.protocol import adjust_predictions, autorec_evaluator
from d2lrec.tune import coordinate_search

FOLDS = ('u1', 'u2', 'u3', 'u4', 'u5')


@pytest.fixture
def root(synthetic_ml100k):
    """The synthetic root with five folds and a u.item, as in the zip."""
    root, df = synthetic_ml100k
    folder = root / 'ml-100k'
    (folder / 'u.item').write_bytes(u_item_bytes())
    part = onp.random.RandomState(1).permutation(len(df)) % 5
    for k, fold in enumerate(FOLDS):
        for suffix, rows in (('test', df[part == k]),
                             ('base', df[part != k])):
            rows.to_csv(folder / f'{fold}.{suffix}', sep='\t',
                        header=False, index=False)
    return root, df


def run(capsys, argv):
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def test_preset_sets_defaults_and_explicit_options_win():
    _, args = cli.parse_args(['train', '--preset', 'tuned'])
    assert cli.config_of(args, args.split_mode) == TUNED  # every setting
    assert (args.hidden_layers, args.num_epochs, args.decoder_act) == (
        (1000,), 60, 'relu')
    assert (args.clip, args.unseen_rating, args.lr_schedule) == (
        True, 3, 'cosine')
    _, args = cli.parse_args(['train', '--preset', 'tuned', '--epochs',
                              '3', '--no-clip', '--hidden', '20'])
    assert cli.config_of(args, 'u1') == dataclasses.replace(
        TUNED, num_epochs=3, clip=False, hidden_layers=(20,),
        split_mode='u1')
    _, args = cli.parse_args(['train'])
    assert cli.config_of(args, args.split_mode) == Config()
    assert (args.clip, args.unseen_rating, args.lr_schedule) == (
        False, None, None)


@pytest.mark.parametrize('argv', [['--unseen-rating', '7'],
                                  ['--split', 'u6'],
                                  ['--lr-schedule', 'step'],
                                  ['--preset', 'best']])
def test_bad_new_options_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(['train', *argv])
    assert info.value.code == 2
    assert 'usage:' in capsys.readouterr().err


def test_folds_partition_the_ratings(root):
    root, df = root
    tests = [split_data_ml100k(df, 30, 40, fold, data_dir=root)
             for fold in FOLDS]
    for train, test in tests:
        assert len(train) + len(test) == len(df)
        assert not set(train.index) & set(test.index)
    assert sorted(i for _, test in tests for i in test.index) == list(
        df.index)


def test_a_fold_that_does_not_match_the_data_is_refused(root):
    root, df = root
    with pytest.raises(DataError, match='does not belong'):
        split_data_ml100k(df.iloc[:100], 30, 40, 'u1', data_dir=root)
    (root / 'ml-100k' / 'u2.test').unlink()
    with pytest.raises(DataError, match='u2'):
        split_data_ml100k(df, 30, 40, 'u2', data_dir=root)


def test_adjust_predictions_against_numpy():
    pred = onp.array([[0.2, 3.3], [6.1, 4.0]])
    unseen = onp.array([[False, True], [False, False]])
    onp.testing.assert_array_equal(
        adjust_predictions(pred, unseen, clip=True, unseen_rating=3),
        [[1, 3], [5, 4]])
    onp.testing.assert_array_equal(adjust_predictions(pred, unseen), pred)


class Constant:
    """A stand-in network that predicts a fixed matrix."""

    def __init__(self, pred):
        self.pred = pred

    def __call__(self, X):
        return np.array(self.pred[:X.shape[0]])


def test_autorec_evaluator_options_against_numpy():
    train = onp.array([[5, 0, 0], [0, 0, 0], [3, 0, 1]], dtype='float32')
    test = onp.array([[0, 4, 2], [5, 0, 0], [0, 1, 0]], dtype='float32')
    pred = onp.array([[4.5, 7.0, 0.0], [2.0, 2.0, 2.0], [1, -1, 1]],
                     dtype='float32')
    inter = [np.array(train)]
    # item 1 (row) and user 1 (column) have no training rating
    unseen = onp.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
    expected = onp.clip(onp.where(unseen, 3, pred), 1, 5)
    mask = test != 0
    rmse = onp.sqrt((((test - expected) * mask) ** 2).sum() / mask.sum())
    evaluate = autorec_evaluator(train, clip=True, unseen_rating=3)
    assert evaluate(Constant(pred), inter, np.array(test),
                    [mx.cpu()]) == pytest.approx(rmse, rel=1e-6)
    plain = onp.sqrt((((test - pred) * mask) ** 2).sum() / mask.sum())
    assert autorec_evaluator(train)(Constant(pred), inter, np.array(test),
                                    [mx.cpu()]) == pytest.approx(plain,
                                                                 rel=1e-6)


def test_coordinate_search_keeps_the_best_option_of_each_stage(
        monkeypatch):
    calls = []

    def fake(config, data, validation):  # best at 8, wd 1e-4
        calls.append(config)
        assert validation is True
        return abs(config.hidden_layers[0] - 8) + abs(config.wd - 1e-4)

    monkeypatch.setattr('d2lrec.experiment._test_rmse', fake)
    space = (('hidden', ({'hidden_layers': (4,)}, {'hidden_layers': (8,)})),
             ('wd', ({'wd': 1e-5}, {'wd': 1e-4})))
    best, log = coordinate_search(space, Config(hidden_layers=(4,),
                                                wd=1e-5), workers=1)
    assert best == Config(hidden_layers=(8,), wd=1e-4)
    assert list(log['chosen']) == [False, True, False, True]
    assert len(calls) == 3  # the incumbent is not trained twice


def test_train_save_then_recommend(root, capsys, tmp_path):
    root, df = root
    path = str(tmp_path / 'model.params')
    status, out, err = run(capsys, [
        'train', '--epochs', '1', '--hidden', '4', '--batch-size', '8',
        '--data-dir', str(root), '--save', path, '--json'])
    assert status == 0 and 'Traceback' not in err
    assert json.loads(out[-1])['epochs'] == 1
    status, out, err = run(capsys, ['recommend', '--user', '3', '-k', '4',
                                    '--load', path, '--data-dir',
                                    str(root)])
    assert status == 0, err
    movies = [line for line in out if not line.startswith('#')]
    rated = set(df[df.user_id == 3].item_id)
    assert len(movies) == 4 + min(4, len(rated))
    assert out[0].startswith('#') and 'user 3' in out[0]


def test_folds_report_their_mean(root, capsys):
    status, out, err = run(capsys, [
        'train', '--split', 'folds', '--epochs', '1', '--hidden', '4',
        '--batch-size', '8', '--data-dir', str(root[0]), '--json'])
    assert status == 0, err
    result = json.loads(out[-1])
    assert sorted(result['folds']) == list(FOLDS)
    assert result['test_rmse'] == pytest.approx(
        onp.mean(list(result['folds'].values())))


def test_gpu_request_without_a_gpu_fails_with_a_reason(root, capsys):
    status, out, err = run(capsys, ['train', '--device', 'gpu',
                                    '--data-dir', str(root[0])])
    assert status == 1 and out == []
    assert err.startswith('d2lrec: error: a GPU was asked for')
    assert 'Traceback' not in err


def test_choose_devices_branches(monkeypatch):
    assert devices_module.choose_devices('cpu') == [mx.cpu()]
    assert devices_module.choose_devices('auto') == [mx.cpu()]

    class CudaBuild:
        def is_enabled(self, name):
            return True

    monkeypatch.setattr(mx.runtime, 'Features', CudaBuild)
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 0)
    with pytest.raises(devices_module.DeviceError, match='runs on the CPU: no NVIDIA driver'):
        devices_module.choose_devices('gpu')
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 1)
    monkeypatch.setattr(devices_module, '_gpu_problem',
                        lambda i: 'gpu(0) has no kernels in this build')
    with pytest.raises(devices_module.DeviceError, match='no kernels'):
        devices_module.choose_devices('gpu')
    monkeypatch.setattr(devices_module, '_gpu_problem', lambda i: None)
    assert devices_module.choose_devices('gpu') == [mx.gpu(0)]


@pytest.mark.parametrize('lr, figure, shown', [
    ('1e9', ', more than 4, the width of the rating scale', 'lr=1e+09'),
    ('1e20', 'the mean train loss is nan', 'lr=1e+20')])
def test_divergence_exits_1_with_the_cause(root, capsys, lr, figure,
                                           shown):
    """1e9: a finite blow-up, the test RMSE beyond the rating scale;
    1e20: NaN."""
    status, out, err = run(capsys, [
        'train', '--epochs', '3', '--hidden', '4', '--batch-size', '8',
        '--lr', lr, '--data-dir', str(root[0])])
    assert status == 1 and out == []
    errors = [line for line in err.splitlines()
              if line.startswith('d2lrec: error:')]
    assert len(errors) == 1
    assert errors[0].startswith('d2lrec: error: training diverged in '
                                'epoch ')
    assert figure in errors[0]
    assert f'Likely cause: learning rate too high? got {shown}' in errors[0]
    assert 'Traceback' not in err


def test_ctrl_c_exits_130_and_saves_nothing(root, capsys, tmp_path,
                                            monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiment, 'train_and_evaluate', interrupted)
    models = tmp_path / 'models'
    models.mkdir()
    status, out, err = run(capsys, [
        'train', '--data-dir', str(root[0]), '--save',
        str(models / 'model.params')])
    assert status == 130
    assert 'interrupted' in err and 'Traceback' not in err
    assert list(models.iterdir()) == []


def test_compare_gives_mean_and_std(root):
    table = experiment.compare(
        {'tiny': Config(hidden_layers=(4,), num_epochs=1, batch_size=8)},
        seeds=(0, 1), data=read_data_ml100k(root[0]))
    assert list(table.columns) == ['seed 0', 'seed 1', 'mean', 'std']
    row = table.loc['tiny']
    assert row['mean'] == pytest.approx((row['seed 0'] + row['seed 1']) / 2)
    assert isinstance(table, pd.DataFrame)

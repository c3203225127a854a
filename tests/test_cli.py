"""The command line (d2lrec.lab.cli): options and presets, usage errors,
train and recommend on synthetic data, and its exit statuses (0, 1 with
one message, 2 for usage, 130 for Ctrl-C)."""
import dataclasses
import fcntl
import inspect
import json
import signal
import subprocess
import sys
import time

import mxnet as mx
import numpy as onp
import pytest

from d2lrec.lab import cli, run as run_module
from d2lrec.lab.blend import train_blend
from d2lrec.lab.config import (DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, PRESETS,
                               TUNED, Config, Preset)
from d2lrec.lab.experiment import train_and_evaluate
from support import FOLDS


def run(capsys, argv):
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def config_of(args, split_mode):
    """The `Config` that ``train``'s parsed `args` run on `split_mode`."""
    preset = cli.preset_of(args.preset)
    return Config(**cli.settings_of(args, preset, split_mode))


def test_cli_needs_a_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith('usage: python -m d2lrec')


def test_cli_defaults_are_the_chapters():
    args = cli.make_parser().parse_args(['train'])
    assert config_of(args, args.split_mode) == Config()
    config = Config()
    assert (config.model, config.hidden_layers, config.encoder_act,
            config.decoder_act, config.num_factors) == (
        'autorec', (500,), 'sigmoid', 'identity', 30)
    assert (config.lr, config.wd, config.dropout, config.lr_schedule) == (
        0.002, 1e-5, 0.05, None)
    assert (config.split_mode, config.test_ratio, config.seed) == (
        'random', 0.1, 0)
    assert (config.clip, config.unseen_rating) == (False, None)
    # None means the model's default: the chapter's for AutoRec.
    assert (config.num_epochs, config.batch_size) == (None, None)
    assert (DEFAULT_EPOCHS['autorec'], DEFAULT_BATCH_SIZE['autorec']) == (
        25, 256)
    assert (args.hidden, args.data_dir, args.json) == (None, None, False)
    assert inspect.signature(train_and_evaluate).parameters[
        'config'].default == Config()


def test_preset_sets_defaults_and_explicit_options_win():
    _, args = cli.parse_args(['train', '--preset', 'tuned'])
    assert config_of(args, args.split_mode) == TUNED  # every setting
    assert (args.hidden_layers, args.num_epochs, args.decoder_act) == (
        (1000,), 60, 'relu')
    assert (args.clip, args.unseen_rating, args.lr_schedule) == (
        True, 3, 'cosine')
    _, args = cli.parse_args(['train', '--preset', 'tuned', '--epochs',
                              '3', '--no-clip', '--hidden', '20'])
    assert config_of(args, 'u1') == dataclasses.replace(
        TUNED, num_epochs=3, clip=False, hidden_layers=(20,),
        split_mode='u1')
    _, args = cli.parse_args(['train'])
    assert config_of(args, args.split_mode) == Config()
    assert (args.clip, args.unseen_rating, args.lr_schedule) == (
        False, None, None)


@pytest.mark.parametrize('preset', [None, 'tuned'])
def test_every_setting_is_a_command_line_option(preset):
    """The options come from the fields: a new field is a new option,
    with the field's help, and its default is the preset's."""
    parser = cli.make_parser(preset)
    train = parser._subparsers._group_actions[0].choices['train']
    options = {action.dest: action for action in train._actions}
    defaults = cli.preset_of(preset).config
    for field in dataclasses.fields(Config):
        assert options[field.name].default == getattr(defaults, field.name)
        assert options[field.name].help.startswith(field.metadata['help'])


@pytest.mark.parametrize('argv, setting, value', [
    (['--factors', '7'], 'num_factors', 7),
    (['--epochs', '3'], 'num_epochs', 3),
    (['--hidden-layers', '500,250,500'], 'hidden_layers', (500, 250, 500)),
    (['--hidden', '100'], 'hidden_layers', (100,)),
    (['--lr', '0.01'], 'lr', 0.01),
    (['--clip'], 'clip', True),
    (['--unseen-rating', '3'], 'unseen_rating', 3.0),
    (['--split', 'u2'], 'split_mode', 'u2'),
    (['--split', 'book'], 'split_mode', 'book'),
    (['--seed', '-3'], 'seed', -3),
])
def test_options_set_their_setting(argv, setting, value):
    _, args = cli.parse_args(['train', *argv])
    config = config_of(args, args.split_mode)
    assert getattr(config, setting) == value
    assert config == dataclasses.replace(Config(), **{setting: value})


def test_cli_accepts_edge_values():
    args = cli.make_parser().parse_args(
        ['train', '--dropout', '0', '--wd', '0', '--test-ratio', '0.5',
         '--split', 'seq-aware', '--seed', '-3'])
    assert (args.dropout, args.wd, args.test_ratio) == (0, 0, 0.5)
    assert (args.split_mode, args.seed) == ('seq-aware', -3)


@pytest.mark.parametrize('argv, message', [
    (['--hidden', '-1'], '--hidden: must be > 0, got -1'),
    (['--hidden', '2.5'], "--hidden: expected int, got '2.5'"),
    (['--hidden-layers', '500,0'], '--hidden-layers: must be > 0'),
    (['--hidden', '5', '--hidden-layers', '5'],
     '--hidden-layers: not allowed with argument --hidden'),
    (['--epochs', '0'], '--epochs: must be > 0, got 0'),
    (['--epochs', 'many'], "--epochs: expected int, got 'many'"),
    (['--lr', '0'], '--lr: must be > 0, got 0'),
    (['--lr-schedule', 'step'], "--lr-schedule: invalid choice: 'step'"),
    (['--wd', '-1e-5'], '--wd'),
    (['--batch-size', 'x'], "--batch-size: expected int, got 'x'"),
    (['--test-ratio', '1.5'], '--test-ratio: must be in (0, 1), got 1.5'),
    (['--test-ratio', '0'], '--test-ratio: must be in (0, 1), got 0'),
    (['--dropout', '1'], '--dropout: must be in [0, 1), got 1'),
    (['--dropout', '-0.1'], '--dropout: must be in [0, 1), got -0.1'),
    (['--split', 'foo'], "--split: invalid choice: 'foo'"),
    (['--split', 'u6'], "--split: invalid choice: 'u6'"),
    (['--unseen-rating', '7'], '--unseen-rating: must be in [1, 5], got 7'),
    (['--preset', 'best'], "--preset: invalid choice: 'best'"),
])
def test_bad_options_are_usage_errors_naming_the_option(argv, message,
                                                        capsys):
    """Exit 2, nothing on stdout, the usage and the option's problem."""
    with pytest.raises(SystemExit) as info:
        cli.main(['train', *argv])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ''
    assert err.startswith('usage: python -m d2lrec train')
    assert f'error: argument {message}' in err, err


def test_python_m_d2lrec_rejects_bad_values(tmp_path):
    proc = subprocess.run(
        [sys.executable, '-m', 'd2lrec', 'train', '--epochs', '0'],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ''
    assert proc.stderr.startswith('usage: python -m d2lrec train')
    assert 'argument --epochs: must be > 0' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_cli_trains_and_prints_json(synthetic_ml100k, monkeypatch, capsys):
    monkeypatch.setattr(mx.context, 'num_gpus', lambda: 0)
    root, _ = synthetic_ml100k
    argv = ['train', '--epochs', '2', '--json', '--data-dir', str(root),
            '--hidden', '8', '--batch-size', '16']
    status, out, err = run(capsys, argv)
    assert status == 0
    result = json.loads(out[-1])
    assert {'test_rmse', 'train_loss', 'epochs', 'seconds',
            'devices'} <= set(result)
    assert result['epochs'] == 2 and len(result['history']) == 2
    assert result['devices'] == ['cpu(0)']
    assert 0 < result['test_rmse'] < 10 and 0 < result['train_loss'] < 10
    assert result['seconds'] > 0
    assert out[-3].startswith('train loss ')
    assert [line.split(':')[0] for line in err.splitlines()] == [
        'epoch 1/2', 'epoch 2/2']

    # The same seed gives the same result.
    status, out2, _ = run(capsys, argv)
    again = json.loads(out2[-1])
    assert status == 0
    assert again['test_rmse'] == result['test_rmse']
    assert again['train_loss'] == result['train_loss']


def test_cli_without_json_prints_no_json(synthetic_ml100k, capsys):
    root, _ = synthetic_ml100k
    status, out, _ = run(capsys, ['train', '--epochs', '1', '--hidden',
                                  '4', '--batch-size', '32',
                                  '--data-dir', str(root)])
    assert status == 0
    assert len(out) == 2 and out[0].startswith('train loss ')


def test_cli_batch_larger_than_the_data(synthetic_ml100k, capsys):
    root, _ = synthetic_ml100k  # 40 items, the default batch size is 256
    with pytest.raises(SystemExit) as info:
        cli.main(['train', '--epochs', '1', '--hidden', '4',
                  '--data-dir', str(root)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('usage: python -m d2lrec train')
    assert 'batch size 256 is larger than the 40 rows' in err


def test_cli_reports_missing_data(synthetic_ml100k, tmp_path, capsys):
    # synthetic_ml100k points the download at a refused port.
    missing = tmp_path / 'nothing-here'
    status, out, err = run(capsys, ['train', '--epochs', '1',
                                    '--data-dir', str(missing)])
    assert status == 1
    assert out == []
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith('d2lrec: error: could not download ')
    assert 'refused' in lines[0].lower()
    assert str(missing / 'ml-100k.zip') in lines[0]
    assert 'Traceback' not in err
    assert not missing.exists()  # not created for nothing


def test_train_save_then_recommend(synthetic_folds, capsys, tmp_path):
    root, df = synthetic_folds
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


def test_folds_report_their_mean(synthetic_folds, capsys):
    status, out, err = run(capsys, [
        'train', '--split', 'folds', '--epochs', '1', '--hidden', '4',
        '--batch-size', '8', '--data-dir', str(synthetic_folds[0]),
        '--json'])
    assert status == 0, err
    result = json.loads(out[-1])
    assert sorted(result['folds']) == list(FOLDS)
    assert result['test_rmse'] == pytest.approx(
        onp.mean(list(result['folds'].values())))


def test_gpu_request_without_a_gpu_fails_with_a_reason(synthetic_folds,
                                                       capsys):
    status, out, err = run(capsys, ['train', '--device', 'gpu',
                                    '--data-dir', str(synthetic_folds[0])])
    assert status == 1 and out == []
    assert err.startswith('d2lrec: error: a GPU was asked for')
    assert 'Traceback' not in err


@pytest.mark.parametrize('lr, figure, shown', [
    ('1e9', ', more than 4, the width of the rating scale', 'lr=1e+09'),
    ('1e20', 'the mean train loss is nan', 'lr=1e+20')])
def test_divergence_exits_1_with_the_cause(synthetic_folds, capsys, lr,
                                           figure, shown):
    """1e9: a finite blow-up, the test RMSE beyond the rating scale;
    1e20: NaN."""
    status, out, err = run(capsys, [
        'train', '--epochs', '3', '--hidden', '4', '--batch-size', '8',
        '--lr', lr, '--data-dir', str(synthetic_folds[0])])
    assert status == 1 and out == []
    errors = [line for line in err.splitlines()
              if line.startswith('d2lrec: error:')]
    assert len(errors) == 1
    assert errors[0].startswith('d2lrec: error: training diverged in '
                                'epoch ')
    assert figure in errors[0]
    assert f'Likely cause: learning rate too high? got {shown}' in errors[0]
    assert 'Traceback' not in err


def test_ctrl_c_exits_130_and_saves_nothing(synthetic_folds, capsys,
                                            tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, 'train_and_evaluate', interrupted)
    models = tmp_path / 'models'
    models.mkdir()
    status, out, err = run(capsys, [
        'train', '--data-dir', str(synthetic_folds[0]), '--save',
        str(models / 'model.params')])
    assert status == 130
    assert 'interrupted' in err and 'Traceback' not in err
    assert list(models.iterdir()) == []


def default_sigint():
    """Give Ctrl-C its usual action in a new process, as in a terminal:
    a test run in the background (``make test &``) has it ignored, and
    its processes would inherit that, so that Ctrl-C while Python loads
    would do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until_loaded(proc, library):
    """Wait until the process `proc` has mapped the shared `library`."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with open(f'/proc/{proc.pid}/maps') as maps:
            if library in maps.read():
                return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.005)
    pytest.fail(f'{library} not loaded in 120 s')


@pytest.mark.parametrize('library, delay', [
    ('_multiarray_umath', 0),  # import d2lrec: numpy loads
    ('libmxnet.so', 0),  # mxnet loads
    ('libmxnet.so', 0.5),
    ('libmxnet.so', 3),  # later: the data, waiting for the lock
])
def test_ctrl_c_while_python_m_d2lrec_loads(tmp_path, library, delay):
    """Ctrl-C from the moment d2lrec starts loading: 130, one line, no
    traceback.  The data folder is locked by a download (this test), so
    that the command waits there after loading, until Ctrl-C."""
    lock = tmp_path / '.ml-100k.lock'
    with open(lock, 'w') as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = subprocess.Popen(
            [sys.executable, '-m', 'd2lrec', 'train', '--data-dir',
             str(tmp_path)], cwd=tmp_path, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
        try:
            wait_until_loaded(proc, library)
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
    assert (proc.returncode, out, err) == (
        130, '', 'd2lrec: interrupted; no partial file was written\n')


@pytest.mark.parametrize('command', ['train', 'recommend'])
def test_each_option_says_its_default_once(command, capsys):
    with pytest.raises(SystemExit):
        cli.parse_args([command, '--help'])
    help = ' '.join(capsys.readouterr().out.split())
    for option in help.split(' --')[1:]:
        assert option.count('(default: ') <= 1, option
    assert '(default: None)' not in help
    assert '==SUPPRESS==' not in help
    assert '-h, --help show this help message and exit --' in help
    if command == 'train':
        assert '--epochs NUM_EPOCHS epochs (default: 25 for AutoRec, 20 ' \
            'for MF)' in help


def test_a_user_beyond_the_data_shows_recommends_usage(synthetic_folds,
                                                       capsys):
    """A value only the data can check: exit 2 with the usage of the
    command that took it."""
    with pytest.raises(SystemExit) as info:
        cli.main(['recommend', '--user', '5000', '--data-dir',
                  str(synthetic_folds[0])])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ''
    assert err.startswith('usage: python -m d2lrec recommend')
    assert err.splitlines()[-1].endswith('error: unknown user id 5000: '
                                         'valid ids are 1..30')


FINALIZER_INTERRUPTED = '''
import os, signal, sys, time
from d2lrec.lab.cli import interrupt

class Array:
    def __del__(self):  # as mxnet's arrays free themselves
        os.kill(os.getpid(), signal.SIGINT)
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            pass

for signum in (signal.SIGINT, signal.SIGALRM):
    signal.signal(signum, interrupt)
try:
    Array()
    time.sleep(10)
except KeyboardInterrupt:
    sys.exit(130)
'''


def test_ctrl_c_in_a_finalizer_still_interrupts(tmp_path):
    """Python drops an exception raised in ``__del__``: Ctrl-C there
    must not be lost, nor print a traceback."""
    script = tmp_path / 'finalizer.py'
    script.write_text(FINALIZER_INTERRUPTED)
    out = subprocess.run([sys.executable, script], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 130 and out.stderr == ''


def test_the_command_line_leaves_the_signal_handlers_as_they_were(
        capsys):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(
        signal.SIGALRM)
    with pytest.raises(SystemExit):
        cli.main(['train', '--epochs', '0'])
    assert (signal.getsignal(signal.SIGINT),
            signal.getsignal(signal.SIGALRM)) == before


@pytest.mark.parametrize('argv, given', [
    (['--dropout', '0.1'], '--dropout'),
    (['--hidden', '5', '--epochs', '3'], '--hidden, --epochs'),
    (['--save', 'model.params'], '--save'),
    (['--model', 'mf', '--no-clip'], '--model'),
])
def test_the_blend_preset_takes_only_its_splits_options(argv, given,
                                                        capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(['train', '--preset', 'blend', *argv])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == '' and err.startswith('usage: python -m d2lrec train')
    assert ('error: --preset blend trains its members with their own '
            'settings') in err
    assert f'got {given}' in err.replace('\n', ' ')
    _, args = cli.parse_args(['train', '--preset', 'blend', '--split', 'u2',
                              '--seed', '3', '--test-ratio', '0.2'])
    assert (args.split_mode, args.seed, args.test_ratio) == ('u2', 3, 0.2)


def test_cli_trains_a_blend(synthetic_folds, monkeypatch, capsys):
    small = Config(hidden_layers=(4,), num_epochs=1, batch_size=8)
    blend = Preset((('I-AutoRec', small),
                   ('MF', dataclasses.replace(small, model='mf'))))
    monkeypatch.setitem(PRESETS, 'blend', blend)
    root = str(synthetic_folds[0])
    status, out, err = run(capsys, ['train', '--preset', 'blend', '--seed',
                                    '1', '--data-dir', root, '--json'])
    assert status == 0, err
    result = json.loads(out[-1])
    assert out[0] == f'blend: test RMSE {result["test_rmse"]:.4f}'
    again = train_blend(blend, seed=1, data_dir=root)
    for key in ('test_rmse', 'validation_rmse', 'weights', 'seed'):
        assert result[key] == again[key]
    assert result['members'].keys() == again['members'].keys()
    assert err.splitlines()[0].startswith('I-AutoRec, validation RMSE ')
    status, out, err = run(capsys, ['train', '--preset', 'blend', '--split',
                                    'folds', '--data-dir', root, '--json'])
    assert status == 0, err
    result = json.loads(out[-1])
    assert sorted(result['folds']) == list(FOLDS)
    assert result['test_rmse'] == pytest.approx(
        onp.mean(list(result['folds'].values())))
    assert set(result) == {'test_rmse', 'validation_rmse', 'model', 'split',
                           'seed', 'seconds', 'devices', 'folds'}

"""Model files (d2lrec.lab.modelfile; beyond D2L §16.4): one file per model,
written in one atomic replace, and every way it can be missing, damaged
or not fit its config."""
import dataclasses
import errno
import json
import os
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import mxnet as mx
import numpy as onp
import pytest

import d2lrec.lab.modelfile as M
from d2lrec.lab.models import build_net
from d2lrec.lab.recommendations import predict_ratings
from support import (full_disk_by_dev_full, full_disk_by_patched_write,
                     trained_like)

CPU = [mx.cpu()]


@pytest.fixture
def folder(tmp_path):
    """An empty folder for model files (`tmp_path` holds the data)."""
    (tmp_path / 'models').mkdir()
    return tmp_path / 'models'


def listing(folder):
    return sorted(os.listdir(folder))


def contents(folder):
    return {name: (folder / name).read_bytes() for name in listing(folder)}


@pytest.mark.parametrize('model', ['autorec', 'uautorec', 'mf'])
def test_save_load_round_trip(ratings, folder, model):
    data, num_users, num_items = ratings
    net, config = trained_like(model, num_users, num_items)
    path = folder / 'model.npz'
    config = dataclasses.replace(config, seed=3, lr_schedule='cosine')
    assert M.save_model(net, config, num_users, num_items,
                        path) == str(path)
    assert listing(folder) == ['model.npz']
    loaded, loaded_config, users, items = M.load_model(path, devices=CPU)
    assert (loaded_config, users, items) == (config, num_users, num_items)
    assert loaded_config.hidden_layers == (4,)
    onp.testing.assert_array_equal(
        predict_ratings(loaded, model, num_users, num_items, data),
        predict_ratings(net, model, num_users, num_items, data))


def test_the_file_is_plain_numpy(ratings, folder):
    """``numpy.load`` reads it, without pickle: the parameters by the
    names ``save_parameters`` gives them, and the config as JSON."""
    _, num_users, num_items = ratings
    net, config = trained_like('mf', num_users, num_items)
    path = folder / 'model.npz'
    M.save_model(net, config, num_users, num_items, path)
    with onp.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == ['P.weight', 'Q.weight', 'config',
                                   'item_bias.weight', 'user_bias.weight']
        assert f['Q.weight'].shape == (num_items, 3)
        onp.testing.assert_array_equal(f['P.weight'],
                                       net.P.weight.data().asnumpy())
        meta = json.loads(str(f['config']))
    assert meta == {'format': 'd2lrec-model', 'version': 1,
                    'config': dict(dataclasses.asdict(config),
                                   hidden_layers=[4]),
                    'num_users': num_users, 'num_items': num_items}


def test_save_overwrites_an_existing_model(ratings, folder):
    _, num_users, num_items = ratings
    path = folder / 'model.npz'
    old, config = trained_like('mf', num_users, num_items, scale=0.5)
    M.save_model(old, config, num_users, num_items, path)
    new, config = trained_like('autorec', num_users, num_items)
    M.save_model(new, config, num_users, num_items, str(path))
    assert M.load_model(str(path), devices=CPU)[1].model == 'autorec'
    assert listing(folder) == ['model.npz']


def test_the_file_is_on_disk_before_it_is_moved_into_place(
        ratings, folder, monkeypatch):
    _, num_users, num_items = ratings
    net, config = trained_like('mf', num_users, num_items)
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, 'fsync', lambda fd: calls.append('fsync')
                        or real_fsync(fd))
    monkeypatch.setattr(os, 'replace', lambda *a: calls.append('replace')
                        or real_replace(*a))
    M.save_model(net, config, num_users, num_items, folder / 'model.npz')
    assert calls[:2] == ['fsync', 'replace']  # then the folder's fsync


@pytest.fixture
def saved(ratings, folder):
    """An MF model saved at ``folder/model.npz``; returns ``(path,
    {name: bytes} of the folder)``."""
    _, num_users, num_items = ratings
    net, config = trained_like('mf', num_users, num_items, scale=0.5)
    path = folder / 'model.npz'
    M.save_model(net, config, num_users, num_items, path)
    return path, contents(folder)


def failing_replace(monkeypatch, error=None):
    """Make ``os.replace`` raise `error` (default: a full disk)."""
    calls = []

    def replace(src, dst):
        calls.append((src, dst))
        raise error or OSError(errno.ENOSPC, 'No space left on device',
                               str(dst))
    monkeypatch.setattr(os, 'replace', replace)
    return calls


def test_failed_save_leaves_no_file(ratings, folder, monkeypatch):
    _, num_users, num_items = ratings
    net, config = trained_like('autorec', num_users, num_items)
    calls = failing_replace(monkeypatch)
    with pytest.raises(M.ModelFileError) as info:
        M.save_model(net, config, num_users, num_items, folder / 'model.npz')
    assert len(calls) == 1  # one file, one replace
    assert listing(folder) == []
    message = str(info.value)
    assert 'No space left' in message and 'unchanged' in message
    assert str(folder / 'model.npz') in message


@pytest.mark.parametrize('error', [None, KeyboardInterrupt()])
def test_failed_save_keeps_the_existing_model(ratings, saved, monkeypatch,
                                              error):
    _, num_users, num_items = ratings
    path, before = saved
    net, config = trained_like('uautorec', num_users, num_items)
    failing_replace(monkeypatch, error)
    with pytest.raises(KeyboardInterrupt if error else M.ModelFileError):
        M.save_model(net, config, num_users, num_items, path)
    assert contents(path.parent) == before
    monkeypatch.undo()
    assert M.load_model(path, devices=CPU)[1].model == 'mf'


@pytest.mark.parametrize('fault', ['disk full', 'Ctrl-C', '/dev/full'])
def test_failed_write_leaves_no_file(ratings, saved, monkeypatch, fault):
    _, num_users, num_items = ratings
    path, before = saved
    net, config = trained_like('autorec', num_users, num_items)
    if fault == '/dev/full':
        full_disk_by_dev_full(monkeypatch)
    else:
        full_disk_by_patched_write(
            monkeypatch, KeyboardInterrupt() if fault == 'Ctrl-C' else None)
    expected = KeyboardInterrupt if fault == 'Ctrl-C' else M.ModelFileError
    for target in (path, path.parent / 'other.npz'):
        with pytest.raises(expected) as info:
            M.save_model(net, config, num_users, num_items, target)
        if expected is M.ModelFileError:
            assert 'No space left' in str(info.value)
        assert contents(path.parent) == before


def test_save_into_a_missing_folder(ratings, folder):
    _, num_users, num_items = ratings
    net, config = trained_like('mf', num_users, num_items)
    with pytest.raises(M.ModelFileError, match='folder exists'):
        M.save_model(net, config, num_users, num_items,
                     folder / 'nowhere' / 'model.npz')
    assert listing(folder) == []


def test_save_refuses_a_net_that_does_not_fit(ratings, folder):
    _, num_users, num_items = ratings
    net, config = trained_like('autorec', num_users, num_items)
    path = folder / 'model.npz'
    for wrong, users in ((dataclasses.replace(config, model='mf'), num_users),
                         (config, 3),
                         (dataclasses.replace(config, hidden_layers=(5,)),
                          num_users),
                         (dataclasses.replace(config, model='uautorec'),
                          num_users)):
        with pytest.raises(ValueError, match='does not fit'):
            M.save_model(net, wrong, users, num_items, path)
    unrun = build_net(config, num_users, num_items)
    unrun.initialize(ctx=CPU)
    with pytest.raises(ValueError, match='not been run'):
        M.save_model(unrun, config, num_users, num_items, path)
    assert listing(folder) == []


# Damaged files -----------------------------------------------------------

def rewrite(path, meta=None, **arrays):
    """Write the model file at `path` again with the JSON `meta` (a dict,
    or a string as it is) and `arrays` (None: left out) changed."""
    with onp.load(path) as f:
        entries = {name: f[name] for name in f.files}
    old = json.loads(str(entries['config']))
    if isinstance(meta, dict):
        meta = json.dumps(dict(old, **meta))
    entries['config'] = json.dumps(old) if meta is None else meta
    entries.update(arrays)
    with open(path, 'wb') as f:
        onp.savez(f, **{k: v for k, v in entries.items() if v is not None})


def edit_config(path, **changes):
    with onp.load(path) as f:
        config = json.loads(str(f['config']))['config']
    rewrite(path, {'config': dict(config, **changes)})


def npy_bytes(array):
    """`array` as a ``.npy`` file (not a zip) holds it."""
    buffer = BytesIO()
    onp.save(buffer, array)
    return buffer.getvalue()


def flip_last_byte_of(path, member):
    """Flip the last byte of `member`'s data in the zip at `path`."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    with open(path, 'r+b') as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = onp.frombuffer(f.read(4), '<u2')
        at = (info.header_offset + 30 + int(name_len) + int(extra_len)
              + info.compress_size - 1)
        f.seek(at)
        byte = f.read(1)[0]
        f.seek(at)
        f.write(bytes([byte ^ 0xFF]))


@pytest.mark.parametrize('damage,problem', [
    (os.remove, 'the file does not exist'),
    (lambda p: Path(p).write_bytes(b''), 'unreadable or invalid'),
    (lambda p: Path(p).write_text('not a model'), 'unreadable or invalid'),
    (lambda p: os.truncate(p, os.path.getsize(p) // 2),
     'unreadable or invalid'),
    (lambda p: flip_last_byte_of(p, 'Q.weight.npy'), 'Bad CRC-32'),
    (lambda p: Path(p).write_bytes(npy_bytes(onp.zeros(3))),
     'unreadable or invalid'),
    (lambda p: rewrite(p, config=None), 'it holds no config'),
    (lambda p: rewrite(p, '{"format": "d2l'), 'unreadable or invalid'),
    (lambda p: rewrite(p, '[1, 2]'), 'not a d2lrec-model'),
    (lambda p: rewrite(p, {'format': 'x'}), 'not a d2lrec-model'),
    (lambda p: rewrite(p, {'version': 2}), 'version 2 is not 1'),
    (lambda p: edit_config(p, num_factors=4), 'do not fit'),
    (lambda p: edit_config(p, model='autorec'), 'do not fit'),
    (lambda p: edit_config(p, model='svd'), 'model must be one of'),
    (lambda p: edit_config(p, hidden_layers=[]), 'positive sizes'),
    (lambda p: edit_config(p, dropout=1.0), r'dropout must be in \[0, 1\)'),
    (lambda p: edit_config(p, encoder_act='gelu'), 'encoder_act must be'),
    (lambda p: edit_config(p, colour='red'), 'does not fit d2lrec'),
    (lambda p: rewrite(p, {'config': [1]}), 'config is not a dict'),
    (lambda p: rewrite(p, {'num_users': 'many'}), 'num_users must be'),
    (lambda p: rewrite(p, {'num_items': 0}), 'num_items must be'),
    (lambda p: rewrite(p, **{'Q.weight': None}), 'do not fit'),
    (lambda p: rewrite(p, **{'R.weight': onp.zeros(3)}), 'do not fit'),
    (lambda p: rewrite(p, **{'Q.weight': onp.zeros((4, 3), 'float32')}),
     'do not fit'),
    (lambda p: rewrite(p, **{'Q.weight': onp.zeros((40, 3))}),
     'do not fit'),  # float64
])
def test_load_model_errors_say_what_and_what_to_do(saved, damage,
                                                   problem):
    path, _ = saved
    damage(str(path))
    with pytest.raises(M.ModelFileError, match=problem) as info:
        M.load_model(path, devices=CPU)
    message = str(info.value)
    assert message.startswith(f'cannot load the model {path}: ')
    assert message.endswith(f'Train and save a model there with python -m '
                            f'd2lrec train --save {path}.')


def test_model_file_error_is_a_runtime_error():
    assert issubclass(M.ModelFileError, RuntimeError)


def test_import_has_no_side_effects():
    code = ('import sys, d2lrec.lab.modelfile; '
            'assert "mxnet" not in sys.modules, "mxnet imported"')
    subprocess.run([sys.executable, '-c', code], check=True)

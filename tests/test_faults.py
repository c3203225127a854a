"""Faults and bad input: malformed data, read-only and full disks, two
processes downloading at once, and training that diverges (D2L §16.2,
§16.3/§16.4).  Every case must raise one clear error and leave the files on
disk as they were."""
import errno
import json
import os
import re
import subprocess
import sys
import time
import zipfile

import mxnet as mx
import numpy as np
import pytest
from mxnet import gluon
from mxnet.gluon import nn
from mxnet.gluon.data import DataLoader

from conftest import (NUM_ITEMS, NUM_RATINGS, NUM_USERS, ZipServer,
                      full_disk_by_dev_full, full_disk_by_patched_write,
                      make_ratings, sha256, u_data_bytes, u_info_bytes)

import d2lrec.download as DL
import d2lrec.movielens as ML
from d2lrec.autorec import AutoRec, evaluator
from d2lrec.data import read_data_ml100k
from d2lrec.train import (DivergenceError, _check_diverged,
                          train_recsys_rating)

DataError = DL.DataError
TIMEOUT = 5  # seconds; everything is local
GOOD = u_data_bytes(make_ratings())  # 400 lines; ids 1..30 and 1..40
INFO = u_info_bytes(NUM_USERS, NUM_ITEMS, NUM_RATINGS)


def with_line(number, line, data=GOOD):
    """`data` with its line `number` (1-based) replaced by `line`."""
    lines = data.split(b'\n')
    lines[number - 1] = line
    return b'\n'.join(lines)


def snapshot(root):
    """Every file under `root` (relative path -> bytes)."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, 'rb') as f:
                files[os.path.relpath(path, root)] = f.read()
    return files


# Malformed data ----------------------------------------------------------

def load_bad_with(how, root, monkeypatch, u_data, u_info=INFO):
    """Write ``root/ml-100k`` and load it by `how`; expect `DataError`,
    check that no file changed and return the message.

    ``read_data_ml100k`` gets past the sha256 check (patched to the file's
    hash), so only the reader's own checks can catch the fault;
    ``download_extract_ml100k`` expects the good file's hash, so it must
    say what is wrong rather than only that the hash differs."""
    folder = root / 'ml-100k'
    folder.mkdir()
    (folder / 'u.data').write_bytes(u_data)
    if u_info is not None:
        (folder / 'u.info').write_bytes(u_info)
    before = snapshot(root)
    if how == 'read_data_ml100k':
        monkeypatch.setattr(DL, 'U_DATA_SHA256', sha256(u_data))
        call = read_data_ml100k
    else:
        monkeypatch.setattr(DL, 'U_DATA_SHA256', sha256(GOOD))
        call = DL.download_extract_ml100k
    with pytest.raises(DataError) as info:
        call(root)
    assert snapshot(root) == before  # nothing written or removed
    message = str(info.value)
    assert 'left as it is' in message or 'left as they are' in message
    assert str(root / 'ml-100k.zip') in message  # what to do
    return message


@pytest.fixture(autouse=True)
def no_network(monkeypatch, refused_url):
    monkeypatch.setitem(DL.DATA_HUB, 'ml-100k', (refused_url, '0' * 40))


@pytest.fixture(params=['read_data_ml100k', 'download_extract_ml100k'])
def load_bad(request, tmp_path, monkeypatch):
    """``load(u_data, u_info=INFO) -> message`` by both ways."""
    def load(u_data, u_info=INFO):
        return load_bad_with(request.param, tmp_path, monkeypatch, u_data,
                             u_info)
    return load


def u_data_path(tmp_path):
    return str(tmp_path / 'ml-100k' / 'u.data')


@pytest.mark.parametrize('number, line, problem', [
    (3, b'1\t2\t3', 'expected 4 tab-separated fields'),
    (5, b'1\t2\t3\t874724710\t9', 'got 5'),
    (1, b'1\t2\t3\t874724710\t9', 'got 5'),  # pandas: an index column
    (400, b'12\t7', 'got 2'),  # a truncated last line
    (7, b'1\tx\t3\t874724710', "the item id 'x' is not an integer"),
    (9, b'1\t2\t3.5\t874724710', "the rating '3.5' is not an integer"),
    (2, b'1 2 3 874724710', 'got 1'),  # spaces, not tabs
    (8, b'1\t2\t\xff\t874724710', 'is not an integer'),  # not UTF-8
    (4, b'1\t2\t3\t99999999999999999999', 'does not fit in 64 bits'),
])
def test_malformed_line_is_named_and_shown(load_bad, tmp_path, number,
                                           line, problem):
    message = load_bad(with_line(number, line))
    assert message.startswith(f'{u_data_path(tmp_path)}, line {number}: ')
    assert problem in message
    assert repr(line.decode('utf-8', 'replace')) in message


def test_every_line_with_an_extra_field(load_bad, tmp_path):
    extra = GOOD.replace(b'\n', b'\t0\n')
    message = load_bad(extra)
    assert message.startswith(f'{u_data_path(tmp_path)}, line 1: expected '
                              f'4 tab-separated fields')


def test_blank_line(load_bad, tmp_path):
    message = load_bad(with_line(11, b''))
    assert message.startswith(f'{u_data_path(tmp_path)}, line 11 is empty')


@pytest.mark.parametrize('rating', [0, 6, -1, 50])
def test_rating_out_of_range(load_bad, tmp_path, rating):
    line = f'3\t4\t{rating}\t874724710'.encode()
    message = load_bad(with_line(17, line))
    assert message.startswith(f'{u_data_path(tmp_path)}, line 17: the '
                              f'rating {rating} is outside 1..5: ')
    assert repr(line.decode()) in message


@pytest.mark.parametrize('line, problem', [
    (b'31\t4\t3\t874724710',
     'the user id 31 is beyond the 30 users counted in'),
    (b'3\t41\t3\t874724710',
     'the item id 41 is beyond the 40 items counted in'),
    (b'0\t4\t3\t874724710', 'the user id 0 is not positive'),
    (b'3\t-2\t3\t874724710', 'the item id -2 is not positive'),
])
def test_id_beyond_the_counts_of_u_info(load_bad, tmp_path, line, problem):
    message = load_bad(with_line(23, line))
    assert message.startswith(f'{u_data_path(tmp_path)}, line 23: {problem}')
    if 'counted in' in problem:
        assert str(tmp_path / 'ml-100k' / 'u.info') in message
    assert repr(line.decode()) in message


def test_id_beyond_the_distinct_ids_without_u_info(load_bad, tmp_path):
    # Without u.info the bound is the number of distinct ids, which sizes
    # the book's rating matrix: here 41 (1..40 and 50).
    message = load_bad(with_line(23, b'3\t50\t3\t874724710'), u_info=None)
    assert message.startswith(
        f'{u_data_path(tmp_path)}, line 23: the item id 50 is beyond the '
        f'41 distinct item ids in the file: the ids must run 1..41')


def test_ids_that_run_1_to_n_are_fine_without_u_info(synthetic_ml100k,
                                                     set_u_data_hash):
    root, written = synthetic_ml100k
    os.remove(root / 'ml-100k' / 'u.info')
    data, num_users, num_items = read_data_ml100k(root)
    assert (num_users, num_items) == (NUM_USERS, NUM_ITEMS)
    assert len(data) == len(written)


@pytest.mark.parametrize('u_info, problem', [
    (b'30 users\nforty items\n400 ratings\n', 'u.info, line 2: expected'),
    (b'30 users\n', 'u.info gives no count of items'),
    (b'', 'u.info gives no count of users or items'),
    (b'30 users\n40 items\n401 ratings\n',
     'u.data holds 400 ratings, but'),
])
def test_bad_or_disagreeing_u_info(tmp_path, monkeypatch, u_info,
                                   problem):
    # download_extract_ml100k reads u.info only when u.data is not the
    # real one (see test_truncated_at_a_line_end_is_caught_by_the_count).
    message = load_bad_with('read_data_ml100k', tmp_path, monkeypatch, GOOD,
                            u_info)
    assert problem in message
    assert str(tmp_path / 'ml-100k' / 'u.info') in message


def test_truncated_at_a_line_end_is_caught_by_the_count(load_bad, tmp_path):
    message = load_bad(GOOD[:GOOD.index(b'\n', 1000) + 1])
    assert message.startswith(f'{u_data_path(tmp_path)} holds ')
    assert 'counts 400' in message and 'incomplete' in message


def test_empty_u_data(load_bad, tmp_path):
    message = load_bad(b'')
    assert message.startswith(f'{u_data_path(tmp_path)} is empty (0 bytes)')


def test_wrong_but_well_formed_u_data_gets_the_hash_message(tmp_path):
    (tmp_path / 'ml-100k').mkdir()
    (tmp_path / 'ml-100k' / 'u.data').write_bytes(GOOD)
    (tmp_path / 'ml-100k' / 'u.info').write_bytes(INFO)
    with pytest.raises(DataError) as info:  # the real file's sha256
        DL.download_extract_ml100k(tmp_path)
    message = str(info.value)
    assert message.startswith(f'{u_data_path(tmp_path)} is not the '
                              f'MovieLens 100K u.data: its sha256 is '
                              f'{sha256(GOOD)}, expected')
    assert ', line ' not in message


@pytest.mark.parametrize('files, missing, held', [
    ({'u.item': b'1|Toy Story (1995)|\n'},
     'u.data (the ratings, required), u.info (their counts, optional)',
     'u.item'),
    ({}, 'u.data (the ratings, required), u.info', 'nothing'),
    ({'u.info': INFO, 'README': b'x'}, 'u.data (the ratings, required); ',
     'README, u.info'),
])
@pytest.mark.parametrize('call', [read_data_ml100k,
                                  DL.download_extract_ml100k])
def test_missing_files_are_listed(tmp_path, call, files, missing, held):
    folder = tmp_path / 'ml-100k'
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    before = snapshot(tmp_path)
    with pytest.raises(DataError) as info:
        call(tmp_path)
    message = str(info.value)
    assert message.startswith(f'{folder} exists but holds no u.data. '
                              f'Missing: {missing}')
    assert f'it holds: {held}. It was left as it is' in message
    assert snapshot(tmp_path) == before
    assert sorted(os.listdir(folder)) == sorted(files)


def test_folder_that_is_a_file(tmp_path):
    (tmp_path / 'ml-100k').write_bytes(b'not a folder')
    with pytest.raises(DataError, match='ml-100k is not a folder'):
        DL.download_extract_ml100k(tmp_path)
    assert (tmp_path / 'ml-100k').read_bytes() == b'not a folder'


def test_good_data_is_read_in_one_pass(tmp_path, monkeypatch,
                                       set_u_data_hash):
    """A valid file the size of the real one (100,000 lines) is read by
    pandas alone: the line-by-line pass runs only on failure."""
    rng = np.random.RandomState(0)
    n = 100_000
    cols = [np.arange(n) % 943 + 1, rng.permutation(n) % 1682 + 1,
            rng.randint(1, 6, n), 874724710 + rng.randint(0, 10**7, n)]
    data = ''.join(f'{u}\t{i}\t{r}\t{t}\n' for u, i, r, t in
                   zip(*cols)).encode()
    (tmp_path / 'ml-100k').mkdir()
    (tmp_path / 'ml-100k' / 'u.data').write_bytes(data)
    (tmp_path / 'ml-100k' / 'u.info').write_bytes(u_info_bytes(943, 1682,
                                                               n))
    set_u_data_hash(data)

    def slow(*args):
        raise AssertionError('the slow pass ran on a good file')
    monkeypatch.setattr(ML, '_malformed_line', slow)
    monkeypatch.setattr(ML, '_line', slow)
    start = time.perf_counter()
    frame, num_users, num_items = read_data_ml100k(tmp_path)
    print(f'read 100,000 lines in {time.perf_counter() - start:.3f} s')
    assert (num_users, num_items, len(frame)) == (943, 1682, n)
    np.testing.assert_array_equal(frame.rating.to_numpy(), cols[2])


# Disk problems -----------------------------------------------------------

@pytest.fixture
def server(ml100k_zip, monkeypatch):
    """A local server of the synthetic zip at ``/ml-100k.zip``; DATA_HUB
    points at it and the synthetic u.data is the expected one."""
    data, sha1, u_sha256, _ = ml100k_zip
    srv = ZipServer({'/ml-100k.zip': data})
    monkeypatch.setitem(DL.DATA_HUB, 'ml-100k',
                        (srv.url('/ml-100k.zip'), sha1))
    monkeypatch.setattr(DL, 'U_DATA_SHA256', u_sha256)
    yield srv
    srv.stop()


def refuse_writes_in(monkeypatch, folder):
    """Make `folder` read-only for this process, as ``chmod 0o555`` does for
    a user other than root: creating, opening for writing, renaming or
    removing anything inside it fails with EACCES."""
    folder = os.path.abspath(folder)

    def inside(path):
        if isinstance(path, int):
            return False
        return os.path.abspath(os.fsdecode(path)).startswith(folder + os.sep)

    def refuse(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES),
                              os.fsdecode(path))

    real = {name: getattr(os, name) for name in (
        'open', 'mkdir', 'replace', 'rename', 'remove', 'unlink', 'rmdir')}
    writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC

    def open_(path, flags, *args, **kwargs):
        if flags & writes and inside(path):
            refuse(path)
        return real['open'](path, flags, *args, **kwargs)

    def mkdir(path, *args, **kwargs):
        if inside(path) and not os.path.exists(path):
            refuse(path)
        return real['mkdir'](path, *args, **kwargs)

    def one_path(name):
        def call(path, *args, **kwargs):
            if inside(path):
                refuse(path)
            return real[name](path, *args, **kwargs)
        return call

    def two_paths(name):
        def call(src, dst, *args, **kwargs):
            for path in (src, dst):
                if inside(path):
                    refuse(path)
            return real[name](src, dst, *args, **kwargs)
        return call

    monkeypatch.setattr(os, 'open', open_)
    monkeypatch.setattr(os, 'mkdir', mkdir)
    for name in ('replace', 'rename'):
        monkeypatch.setattr(os, name, two_paths(name))
    for name in ('remove', 'unlink', 'rmdir'):
        monkeypatch.setattr(os, name, one_path(name))


def check_not_writable(message, root):
    assert message.startswith(f'the data folder {root} is not writable '
                              f'(Permission denied')
    assert DL.DATA_DIR_ENV in message  # where else to put the data
    assert str(root / 'ml-100k') + os.sep in message  # or put it there


@pytest.mark.parametrize('holds', ['nothing', 'the zip'])
def test_read_only_data_folder(server, tmp_path, monkeypatch, ml100k_zip,
                               holds):
    root = tmp_path / 'data'
    root.mkdir()
    if holds == 'the zip':
        (root / 'ml-100k.zip').write_bytes(ml100k_zip[0])
    before = snapshot(root)
    refuse_writes_in(monkeypatch, root)
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    check_not_writable(str(info.value), root)
    assert server.requests == []  # it stopped before the network
    monkeypatch.undo()
    assert snapshot(root) == before


def test_data_folder_in_a_read_only_folder(server, tmp_path, monkeypatch):
    refuse_writes_in(monkeypatch, tmp_path)
    root = tmp_path / 'data'
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    message = str(info.value)
    assert message.startswith(f'cannot create the data folder {root}: its '
                              f'parent is not writable (Permission denied')
    assert DL.DATA_DIR_ENV in message  # where else to put the data
    assert server.requests == []
    assert not root.exists()


def test_read_only_folder_with_verified_data_is_used(synthetic_ml100k,
                                                     monkeypatch):
    root, written = synthetic_ml100k
    before = snapshot(root)
    refuse_writes_in(monkeypatch, root)
    assert DL.download_extract_ml100k(root) == str(root / 'ml-100k')
    data, _, _ = read_data_ml100k(root)
    assert len(data) == len(written)
    assert snapshot(root) == before


def test_chmod_read_only_data_folder(server, tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    root.chmod(0o555)
    try:
        try:  # root (os.geteuid() == 0) may write there anyway
            (root / 'probe').write_bytes(b'')
        except PermissionError:
            pass
        else:
            os.remove(root / 'probe')
            pytest.skip('this user writes to a chmod 0o555 folder anyway '
                        '(root); test_read_only_data_folder simulates it')
        with pytest.raises(DataError) as info:
            DL.download_extract_ml100k(root, timeout=TIMEOUT)
        check_not_writable(str(info.value), root)
        assert os.listdir(root) == []
        assert server.requests == []
    finally:
        root.chmod(0o755)


@pytest.mark.parametrize('fill', [full_disk_by_dev_full,
                                  full_disk_by_patched_write])
def test_disk_full_while_downloading(server, tmp_path, monkeypatch, fill):
    root = tmp_path / 'data'
    root.mkdir()
    (root / 'keep.txt').write_bytes(b'a file of the user')
    fill(monkeypatch)
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    message = str(info.value)
    assert message.startswith(f'no space left on the disk holding the data '
                              f'folder {root}: d2lrec could not download '
                              f"{server.url('/ml-100k.zip')}")
    assert DL.DATA_DIR_ENV in message
    assert server.requests == ['/ml-100k.zip']  # it failed writing
    monkeypatch.undo()
    assert snapshot(root) == {'keep.txt': b'a file of the user'}


def test_disk_full_while_extracting(server, tmp_path, monkeypatch,
                                    ml100k_zip):
    root = tmp_path / 'data'
    root.mkdir()
    (root / 'ml-100k.zip').write_bytes(ml100k_zip[0])
    (root / 'keep.txt').write_bytes(b'a file of the user')
    before = snapshot(root)

    def copyfileobj(source, target, *args):
        target.write(source.read(10))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(zipfile.shutil, 'copyfileobj', copyfileobj)
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    assert str(info.value).startswith(
        f'no space left on the disk holding the data folder {root}: '
        f'd2lrec could not extract {root / "ml-100k.zip"}')
    monkeypatch.undo()
    assert snapshot(root) == before  # no folder, no temporary folder
    assert server.requests == []


# Two processes, one cache ------------------------------------------------

CHILD = '''
import json, sys, time
import d2lrec.download as DL
url, sha1, u_sha256, root, marker = sys.argv[1:]
DL.DATA_HUB['ml-100k'] = (url, sha1)
DL.U_DATA_SHA256 = u_sha256
lock = DL._lock
def traced(*args, **kwargs):
    open(marker, 'w').close()  # this process has come to the lock
    return lock(*args, **kwargs)
DL._lock = traced
start = time.time()
folder = DL.download_extract_ml100k(root, timeout=10)
print(json.dumps({'folder': folder, 'start': start, 'end': time.time()}))
'''


def test_two_processes_download_into_one_cache(server, tmp_path,
                                               ml100k_zip):
    """The second process comes to the lock while the first is
    downloading (the server holds back the second half of the zip until
    then), waits, and finds the folder made: one download, one zip, one
    folder, no temporary or lock file."""
    data, sha1, u_sha256, _ = ml100k_zip
    root = tmp_path / 'data'
    markers = [tmp_path / 'first-at-lock', tmp_path / 'second-at-lock']
    server.gate = str(markers[1])

    url = server.url('/ml-100k.zip')

    def start(marker):
        return subprocess.Popen(
            [sys.executable, '-c', CHILD, url, sha1, u_sha256, str(root),
             str(marker)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs = [start(markers[0])]
    try:
        deadline = time.monotonic() + 30
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.requests, 'the first process did not download'
        procs.append(start(markers[1]))
        outs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    first, second = (json.loads(out.strip().splitlines()[-1])
                     for out, _ in outs)
    assert first['folder'] == second['folder'] == str(root / 'ml-100k')
    assert second['start'] < first['end'] <= second['end']
    assert server.requests == ['/ml-100k.zip']  # the second waited
    assert sorted(os.listdir(root)) == ['ml-100k', 'ml-100k.zip']
    assert (root / 'ml-100k.zip').read_bytes() == data
    assert sorted(os.listdir(root / 'ml-100k')) == ['README', 'u.data']
    assert DL.file_hash(root / 'ml-100k' / 'u.data', 'sha256') == u_sha256


def test_a_left_over_lock_file_does_not_block(server, tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    (root / '.ml-100k.lock').write_bytes(b'')  # from a killed process
    start = time.monotonic()
    DL.download_extract_ml100k(root, timeout=TIMEOUT)
    assert time.monotonic() - start < 5
    assert sorted(os.listdir(root)) == ['ml-100k', 'ml-100k.zip']


@pytest.mark.skipif(DL.fcntl is None, reason='no fcntl: no lock')
def test_waiting_for_the_lock_is_bounded(server, tmp_path, monkeypatch):
    root = tmp_path / 'data'
    root.mkdir()
    lock = root / '.ml-100k.lock'
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        DL.fcntl.flock(fd, DL.fcntl.LOCK_EX)  # another process, in effect
        monkeypatch.setattr(DL, 'LOCK_TIMEOUT', 0.3)
        with pytest.raises(DataError) as info:
            DL.download_extract_ml100k(root, timeout=TIMEOUT)
        message = str(info.value)
        assert message.startswith(f'another process has been downloading '
                                  f'ml-100k into {root} for too long')
        assert str(lock) in message
        assert server.requests == []
        assert os.listdir(root) == ['.ml-100k.lock']
    finally:
        os.close(fd)
    DL.download_extract_ml100k(root, timeout=TIMEOUT)  # free again
    assert sorted(os.listdir(root)) == ['ml-100k', 'ml-100k.zip']


# Training that diverges (D2L §16.3/§16.4) --------------------------------

def tiny_autorec(optimizer, lr):
    mx.random.seed(0)
    rng = np.random.RandomState(0)
    X = (rng.randint(1, 6, (20, 8))
         * (rng.uniform(size=(20, 8)) < 0.5)).astype(np.float32)
    net = AutoRec(6, 8, dropout=0)
    net.initialize(ctx=mx.cpu(), init=mx.init.Normal(0.01))
    trainer = gluon.Trainer(net.collect_params(), optimizer,
                            {'learning_rate': lr})
    return net, trainer, X


@pytest.mark.parametrize('optimizer, lr, shown, figure', [
    ('sgd', 1e12, 'lr=1e+12', r'the mean train loss is (nan|inf)'),
    ('adam', 1e20, 'lr=1e+20', r'the mean train loss is (nan|inf)'),
    # Adam's steps are at most about lr: a finite blow-up
    ('adam', 1e9, 'lr=1e+09', r'the test RMSE is \d\.\d+e\+09, more than '
                              r'4, the width of the rating scale 1-5\. '),
])
def test_absurd_learning_rate_raises_divergence(optimizer, lr, shown,
                                                figure, capsys):
    net, trainer, X = tiny_autorec(optimizer, lr)
    with pytest.raises(DivergenceError) as info:
        train_recsys_rating(
            net, DataLoader(X, batch_size=5), DataLoader(X, batch_size=5),
            gluon.loss.L2Loss(), trainer, 3, [mx.cpu()], evaluator,
            plot=False, inter_mat=mx.np.array(X))
    message = str(info.value)
    assert re.match(f'training diverged in epoch 1/3: {figure}', message)
    assert f'Likely cause: learning rate too high? got {shown}' in message
    assert isinstance(info.value, ArithmeticError)
    assert 'train loss' not in capsys.readouterr().out  # no summary


def frozen_dense(X):
    mx.random.seed(3)
    net = nn.Dense(X.shape[1])
    net.initialize(ctx=mx.cpu(), init=mx.init.Normal(0.5))
    trainer = gluon.Trainer(net.collect_params(), 'sgd',
                            {'learning_rate': 0.0})
    return net, trainer


SCALE = ', more than 4, the width of the rating scale 1-5'


@pytest.mark.parametrize('bad, shown', [
    (float('nan'), 'nan'), (float('inf'), 'inf'), (float('-inf'), '-inf'),
    (4.001, '4.001' + SCALE), (7.3e11, '7.3e+11' + SCALE)])
def test_unusable_test_rmse_raises_divergence(bad, shown):
    """An RMSE of 4 (epoch 1) can come from predictions within 1-5; more
    cannot: the model is not usable, even when its RMSE is finite."""
    X = np.random.RandomState(4).uniform(size=(10, 5)).astype(np.float32)
    net, trainer = frozen_dense(X)
    rmses = iter([4.0, bad, 1.0])
    with pytest.raises(DivergenceError) as info:
        train_recsys_rating(net, DataLoader(X, batch_size=4), None,
                            gluon.loss.L2Loss(), trainer, 3, [mx.cpu()],
                            lambda *args: next(rmses), plot=False)
    assert str(info.value) == (
        f'training diverged in epoch 2/3: the test RMSE is {shown}. Likely '
        f'cause: learning rate too high? got lr=0; lower it (the '
        f"chapter's Adam uses 0.002), re-initialize the model and train "
        f'again.')


def test_an_epoch_without_test_rmse_is_judged_by_its_loss():
    """An epoch that was not evaluated (test RMSE None) is checked on its
    train loss alone."""
    _, trainer = frozen_dense(np.zeros((1, 2), dtype=np.float32))
    assert _check_diverged(1, 3, 0.5, None, trainer) is None
    with pytest.raises(DivergenceError) as info:
        _check_diverged(2, 3, float('inf'), None, trainer)
    assert str(info.value).startswith('training diverged in epoch 2/3: '
                                      'the mean train loss is inf. Likely')


def test_overflowing_train_loss_raises_divergence():
    X = np.random.RandomState(4).uniform(size=(6, 3)).astype(np.float32)
    net, trainer = frozen_dense(X)

    def loss(pred, label):  # e**100 overflows float32: inf
        return mx.np.exp(100 + ((pred - label) ** 2).mean(axis=1))
    with pytest.raises(DivergenceError) as info:
        train_recsys_rating(net, DataLoader(X, batch_size=6), None, loss,
                            trainer, 2, [mx.cpu()], lambda *args: 1.0,
                            plot=False)
    # MXNet's (compensated) sum of inf is nan, hence "nan" here.
    assert str(info.value).startswith('training diverged in epoch 1/2: the '
                                      'mean train loss is nan. Likely ')


def test_finite_training_is_not_stopped():
    net, trainer, X = tiny_autorec('adam', 0.01)
    history = train_recsys_rating(
        net, DataLoader(X, batch_size=5), DataLoader(X, batch_size=5),
        gluon.loss.L2Loss(), trainer, 3, [mx.cpu()], evaluator,
        plot=False, inter_mat=mx.np.array(X))
    assert len(history) == 3

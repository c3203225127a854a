"""Downloading, verifying and extracting MovieLens 100K (d2lrec.download)
against a real HTTP server on 127.0.0.1 serving a synthetic zip, and its
faults: missing files, read-only and full disks, and two processes
downloading at once.  Every fault must raise one clear error and leave
the files on disk as they were."""
import errno
import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile

import pytest

import d2lrec.datasets as DS
import d2lrec.download as DL
import d2lrec.fetch as FETCH
from d2lrec.data import read_data_ml100k
from support import (GOOD, INFO, ZipServer, full_disk_by_dev_full,
                     full_disk_by_patched_write, make_zip, patch_dataset,
                     refused_port, sha256, snapshot)

DataError = DS.DataError
TIMEOUT = 5  # seconds; everything is local
pytestmark = pytest.mark.usefixtures('no_network')


@pytest.fixture
def server(ml100k_zip):
    data = ml100k_zip[0]
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 2] ^= 0xFF
    srv = ZipServer({'/good/ml-100k.zip': data,
                     '/corrupt/ml-100k.zip': bytes(corrupt),
                     '/truncated/ml-100k.zip': data},
                    truncated=['/truncated/ml-100k.zip'])
    yield srv
    srv.stop()
    assert not srv.thread.is_alive()


@pytest.fixture
def hub(monkeypatch, ml100k_zip):
    """Return a function pointing ml-100k's record at a URL, with the
    good zip's sha1, and make the synthetic u.data the expected one."""
    _, sha1, u_sha256, _ = ml100k_zip
    patch_dataset(monkeypatch, ratings_hash=('sha256', u_sha256))

    def point(url):
        patch_dataset(monkeypatch, url=url, zip_hash=('sha1', sha1))
    return point


@pytest.fixture
def root(tmp_path):
    """A data root that does not exist yet."""
    return tmp_path / 'data'


def refused():
    return f'http://127.0.0.1:{refused_port()}/ml-100k.zip'


def test_good_zip_is_downloaded_verified_and_extracted(server, hub, root,
                                                       ml100k_zip):
    data, sha1, u_sha256, _ = ml100k_zip
    hub(server.url('/good/ml-100k.zip'))
    folder = DL.download_extract_ml100k(root, timeout=TIMEOUT)
    assert folder == str(root / 'ml-100k')
    assert DS.file_hash(root / 'ml-100k' / 'u.data', 'sha256') == u_sha256
    assert (root / 'ml-100k' / 'README').is_file()
    assert (root / 'ml-100k.zip').read_bytes() == data
    assert sorted(os.listdir(root)) == ['ml-100k', 'ml-100k.zip']
    assert server.requests == ['/good/ml-100k.zip']

    # Verified and cached: no network needed any more.
    server.stop()
    hub(refused())
    assert DL.download_extract_ml100k(root, timeout=TIMEOUT) == folder
    assert sorted(os.listdir(root)) == ['ml-100k', 'ml-100k.zip']


def test_cached_zip_is_extracted_without_network(server, hub, root):
    hub(server.url('/good/ml-100k.zip'))
    DL.download_extract_ml100k(root, timeout=TIMEOUT)
    u_data = (root / 'ml-100k' / 'u.data').read_bytes()
    server.stop()
    hub(refused())
    for name in os.listdir(root / 'ml-100k'):
        os.remove(root / 'ml-100k' / name)
    os.rmdir(root / 'ml-100k')
    folder = DL.download_extract_ml100k(root, timeout=TIMEOUT)
    assert (root / 'ml-100k' / 'u.data').read_bytes() == u_data
    assert folder == str(root / 'ml-100k')
    assert sorted(os.listdir(root)) == ['ml-100k', 'ml-100k.zip']


def test_download_returns_the_zip_path(server, hub, root, ml100k_zip):
    hub(server.url('/good/ml-100k.zip'))
    fname = FETCH.download('ml-100k', root, timeout=TIMEOUT)
    assert fname == str(root / 'ml-100k.zip')
    assert DS.file_hash(fname, 'sha1') == ml100k_zip[1]
    assert os.listdir(root) == ['ml-100k.zip']


@pytest.mark.parametrize('path, problem', [
    ('/corrupt/ml-100k.zip', 'corrupt or incomplete: sha1'),
    # http.client's read(amt) returns b'' at a premature end on Python
    # 3.11 instead of raising IncompleteRead, so the sha1 check catches
    # it; either way the message says "incomplete".
    ('/truncated/ml-100k.zip', 'incomplete'),
    ('/missing/ml-100k.zip', 'HTTP 404 Not Found'),
])
def test_bad_download_raises_and_leaves_nothing(server, hub, root, path,
                                                problem):
    url = server.url(path)
    hub(url)
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    message = str(info.value)
    assert problem.lower() in message.lower()
    assert url in message
    assert str(root / 'ml-100k.zip') in message  # where to put the zip
    assert server.requests == [path]
    assert not root.exists()  # no zip, no temporary file, no new folder


def test_refused_connection_raises_and_leaves_nothing(hub, root):
    url = refused()
    hub(url)
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    message = str(info.value)
    assert 'refused' in message.lower()
    assert f'could not download {url}' in message
    assert str(root / 'ml-100k.zip') in message
    assert str(root / 'ml-100k') + os.sep in message
    assert DS.DATA_DIR_ENV in message
    assert not root.exists()


@pytest.mark.parametrize('given', ['argument', 'environment'])
def test_a_failed_download_leaves_no_new_folder(hub, tmp_path, monkeypatch,
                                                given):
    """A data root that did not exist, with its missing parents, is
    removed again; folders that existed stay."""
    hub(refused())
    (tmp_path / 'kept').mkdir()
    root = tmp_path / 'kept' / 'new' / 'data'
    monkeypatch.setenv(DS.DATA_DIR_ENV, str(root))
    with pytest.raises(DataError, match='could not download'):
        DL.download_extract_ml100k(root if given == 'argument' else None,
                                   timeout=TIMEOUT)
    assert os.listdir(tmp_path / 'kept') == []


def test_zip_put_where_the_message_says_is_used(hub, root, ml100k_zip):
    hub(refused().replace('ml-100k.zip', 'mirror.zip'))
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    assert str(root / 'ml-100k.zip') in str(info.value)
    root.mkdir()  # it did not exist, and was not left behind
    (root / 'ml-100k.zip').write_bytes(ml100k_zip[0])  # as instructed
    assert DL.download_extract_ml100k(root, timeout=TIMEOUT) == str(
        root / 'ml-100k')


def test_data_error_is_a_runtime_error():
    assert issubclass(DataError, RuntimeError)


def test_wrong_cached_zip_raises_and_is_kept(server, hub, root):
    hub(server.url('/good/ml-100k.zip'))
    root.mkdir()
    wrong = b'PK\x03\x04 not the MovieLens zip'
    (root / 'ml-100k.zip').write_bytes(wrong)
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    message = str(info.value)
    assert 'sha1' in message
    assert hashlib.sha1(wrong).hexdigest() in message
    assert str(root / 'ml-100k.zip') in message
    assert (root / 'ml-100k.zip').read_bytes() == wrong
    assert os.listdir(root) == ['ml-100k.zip']
    assert server.requests == []  # the wrong zip was not replaced


def test_wrong_u_data_raises_and_is_kept(server, hub, root):
    hub(server.url('/good/ml-100k.zip'))
    (root / 'ml-100k').mkdir(parents=True)
    wrong = b'1\t1\t5\t874724710\n'
    (root / 'ml-100k' / 'u.data').write_bytes(wrong)
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    message = str(info.value)
    assert 'sha256' in message
    assert hashlib.sha256(wrong).hexdigest() in message
    assert str(root / 'ml-100k' / 'u.data') in message
    assert (root / 'ml-100k' / 'u.data').read_bytes() == wrong
    assert os.listdir(root) == ['ml-100k']
    assert os.listdir(root / 'ml-100k') == ['u.data']
    assert server.requests == []


def test_folder_without_u_data_raises_and_is_kept(hub, root):
    hub(refused())
    (root / 'ml-100k').mkdir(parents=True)
    (root / 'ml-100k' / 'u.item').write_bytes(b'1|Toy Story (1995)|\n')
    with pytest.raises(DataError, match='holds no u.data'):
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    assert os.listdir(root / 'ml-100k') == ['u.item']


def test_verified_folder_is_used_without_network(synthetic_ml100k):
    root, _ = synthetic_ml100k  # the record points at a refused port
    before = (root / 'ml-100k' / 'u.data').read_bytes()
    assert DL.download_extract_ml100k(root, timeout=TIMEOUT) == str(
        root / 'ml-100k')
    assert (root / 'ml-100k' / 'u.data').read_bytes() == before
    assert os.listdir(root) == ['ml-100k']


def test_the_books_download_extract_is_the_verified_one(synthetic_ml100k,
                                                        monkeypatch):
    root, _ = synthetic_ml100k
    monkeypatch.setenv(DS.DATA_DIR_ENV, str(root))
    assert DL.download_extract('ml-100k') == str(root / 'ml-100k')
    assert DL.download_extract('ml-100k', 'x') == str(root / 'x')
    with pytest.raises(ValueError, match="downloads \\('ml-100k', 'ml-1m'"):
        DL.download_extract('airfoil')


def cache_zip_with_matching_sha1(root, hub, monkeypatch, content):
    """Put `content` at root/ml-100k.zip and make the record expect its
    sha1 (the network is unreachable), so only extraction can refuse it."""
    root.mkdir()
    (root / 'ml-100k.zip').write_bytes(content)
    hub(refused())
    patch_dataset(monkeypatch,
                  zip_hash=('sha1', hashlib.sha1(content).hexdigest()))


@pytest.mark.parametrize('member', ['other/u.data', '../ml-100k/u.data',
                                    'ml-100k/../../evil'])
def test_zip_with_unexpected_paths_is_refused(hub, root, monkeypatch,
                                              member):
    cache_zip_with_matching_sha1(
        root, hub, monkeypatch,
        make_zip({'ml-100k/u.data': b'1\t1\t5\t874724710\n',
                  member: b'x'}))
    with pytest.raises(DataError, match='unexpected path'):
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    # Nothing was extracted, no temporary folder is left, the zip is kept.
    assert os.listdir(root) == ['ml-100k.zip']
    assert not (root.parent / 'evil').exists()


def test_bad_zip_with_matching_sha1_is_refused(hub, root, monkeypatch):
    cache_zip_with_matching_sha1(root, hub, monkeypatch,
                                 b'this is not a zip file')
    with pytest.raises(DataError, match='could not extract'):
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    assert os.listdir(root) == ['ml-100k.zip']


def test_get_data_dir_argument_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(DS.DATA_DIR_ENV, str(tmp_path / 'env'))
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    assert DS.get_data_dir(tmp_path / 'arg') == str(tmp_path / 'arg')
    assert DS.get_data_dir(str(tmp_path / 'arg')) == str(tmp_path / 'arg')


def test_get_data_dir_env_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.setenv(DS.DATA_DIR_ENV, str(tmp_path / 'env'))
    assert DS.DATA_DIR_ENV == 'D2LREC_DATA_DIR'
    assert DS.get_data_dir() == str(tmp_path / 'env')
    monkeypatch.setenv(DS.DATA_DIR_ENV, '')
    default = str(tmp_path / 'home' / '.cache' / 'd2lrec')
    assert DS.get_data_dir() == default
    monkeypatch.delenv(DS.DATA_DIR_ENV)
    assert DS.get_data_dir() == default
    assert DS.get_data_dir(None) == default


def test_get_data_dir_expands_user_and_makes_absolute(tmp_path,
                                                      monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.chdir(tmp_path)
    assert DS.get_data_dir('~/x') == str(tmp_path / 'home' / 'x')
    assert DS.get_data_dir('rel') == str(tmp_path / 'rel')


def test_download_uses_the_env_root(server, hub, tmp_path, monkeypatch):
    monkeypatch.setenv(DS.DATA_DIR_ENV, str(tmp_path / 'env'))
    hub(server.url('/good/ml-100k.zip'))
    assert DL.download_extract_ml100k(timeout=TIMEOUT) == str(
        tmp_path / 'env' / 'ml-100k')
    assert (tmp_path / 'env' / 'ml-100k.zip').is_file()


# Missing and wrong files --------------------------------------------------

def test_wrong_but_well_formed_u_data_gets_the_hash_message(tmp_path):
    (tmp_path / 'ml-100k').mkdir()
    (tmp_path / 'ml-100k' / 'u.data').write_bytes(GOOD)
    (tmp_path / 'ml-100k' / 'u.info').write_bytes(INFO)
    with pytest.raises(DataError) as info:  # the real file's sha256
        DL.download_extract_ml100k(tmp_path)
    message = str(info.value)
    u_data = tmp_path / 'ml-100k' / 'u.data'
    assert message.startswith(f'{u_data} is not the '
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


# Disk problems -----------------------------------------------------------

@pytest.fixture
def zip_server(ml100k_zip, monkeypatch):
    """A local server of the synthetic zip at ``/ml-100k.zip``; the record
    points at it and the synthetic u.data is the expected one."""
    data, sha1, u_sha256, _ = ml100k_zip
    srv = ZipServer({'/ml-100k.zip': data})
    patch_dataset(monkeypatch, url=srv.url('/ml-100k.zip'),
                  zip_hash=('sha1', sha1),
                  ratings_hash=('sha256', u_sha256))
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
    assert DS.DATA_DIR_ENV in message  # where else to put the data
    assert str(root / 'ml-100k') + os.sep in message  # or put it there


@pytest.mark.parametrize('holds', ['nothing', 'the zip'])
def test_read_only_data_folder(zip_server, tmp_path, monkeypatch, ml100k_zip,
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
    assert zip_server.requests == []  # it stopped before the network
    monkeypatch.undo()
    assert snapshot(root) == before


def test_data_folder_in_a_read_only_folder(zip_server, tmp_path, monkeypatch):
    refuse_writes_in(monkeypatch, tmp_path)
    root = tmp_path / 'data'
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    message = str(info.value)
    assert message.startswith(f'cannot create the data folder {root}: its '
                              f'parent is not writable (Permission denied')
    assert DS.DATA_DIR_ENV in message  # where else to put the data
    assert zip_server.requests == []
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


def test_chmod_read_only_data_folder(zip_server, tmp_path):
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
        assert zip_server.requests == []
    finally:
        root.chmod(0o755)


@pytest.mark.parametrize('fill', [full_disk_by_dev_full,
                                  full_disk_by_patched_write])
def test_disk_full_while_downloading(zip_server, tmp_path, monkeypatch, fill):
    root = tmp_path / 'data'
    root.mkdir()
    (root / 'keep.txt').write_bytes(b'a file of the user')
    fill(monkeypatch)
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    message = str(info.value)
    assert message.startswith(f'no space left on the disk holding the data '
                              f'folder {root}: d2lrec could not download '
                              f"{zip_server.url('/ml-100k.zip')}")
    assert DS.DATA_DIR_ENV in message
    assert zip_server.requests == ['/ml-100k.zip']  # it failed writing
    monkeypatch.undo()
    assert snapshot(root) == {'keep.txt': b'a file of the user'}


def test_disk_full_while_extracting(zip_server, tmp_path, monkeypatch,
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
    assert zip_server.requests == []


# Two processes, one cache ------------------------------------------------

CHILD = '''
import json, sys, time
import d2lrec.datasets as DS
import d2lrec.download as DL
import d2lrec.fetch as FETCH
url, sha1, u_sha256, root, marker = sys.argv[1:]
DS.DATASETS['ml-100k'] = DS.DATASETS['ml-100k']._replace(
    url=url, zip_hash=('sha1', sha1), ratings_hash=('sha256', u_sha256))
lock = FETCH._lock
def traced(*args, **kwargs):
    open(marker, 'w').close()  # this process has come to the lock
    return lock(*args, **kwargs)
FETCH._lock = traced
start = time.time()
folder = DL.download_extract_ml100k(root, timeout=10)
print(json.dumps({'folder': folder, 'start': start, 'end': time.time()}))
'''


def test_two_processes_download_into_one_cache(zip_server, tmp_path,
                                               ml100k_zip):
    """The second process comes to the lock while the first is
    downloading (the zip_server holds back the second half of the zip until
    then), waits, and finds the folder made: one download, one zip, one
    folder, no temporary or lock file."""
    data, sha1, u_sha256, _ = ml100k_zip
    root = tmp_path / 'data'
    markers = [tmp_path / 'first-at-lock', tmp_path / 'second-at-lock']
    zip_server.gate = str(markers[1])

    url = zip_server.url('/ml-100k.zip')

    def start(marker):
        return subprocess.Popen(
            [sys.executable, '-c', CHILD, url, sha1, u_sha256, str(root),
             str(marker)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs = [start(markers[0])]
    try:
        deadline = time.monotonic() + 30
        while not zip_server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        assert zip_server.requests, 'the first process did not download'
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
    assert zip_server.requests == ['/ml-100k.zip']  # the second waited
    assert sorted(os.listdir(root)) == ['ml-100k', 'ml-100k.zip']
    assert (root / 'ml-100k.zip').read_bytes() == data
    assert sorted(os.listdir(root / 'ml-100k')) == ['README', 'u.data']
    assert DS.file_hash(root / 'ml-100k' / 'u.data', 'sha256') == u_sha256


def test_a_left_over_lock_file_does_not_block(zip_server, tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    (root / '.ml-100k.lock').write_bytes(b'')  # from a killed process
    start = time.monotonic()
    DL.download_extract_ml100k(root, timeout=TIMEOUT)
    assert time.monotonic() - start < 5
    assert sorted(os.listdir(root)) == ['ml-100k', 'ml-100k.zip']


@pytest.mark.skipif(FETCH.fcntl is None, reason='no fcntl: no lock')
def test_waiting_for_the_lock_is_bounded(zip_server, tmp_path, monkeypatch):
    root = tmp_path / 'data'
    root.mkdir()
    lock = root / '.ml-100k.lock'
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        # another process, in effect:
        FETCH.fcntl.flock(fd, FETCH.fcntl.LOCK_EX)
        monkeypatch.setattr(FETCH, 'LOCK_TIMEOUT', 0.3)
        with pytest.raises(DataError) as info:
            DL.download_extract_ml100k(root, timeout=TIMEOUT)
        message = str(info.value)
        assert message.startswith(f'another process has been downloading '
                                  f'ml-100k into {root} for too long')
        assert str(lock) in message
        assert zip_server.requests == []
        assert os.listdir(root) == ['.ml-100k.lock']
    finally:
        os.close(fd)
    DL.download_extract_ml100k(root, timeout=TIMEOUT)  # free again
    assert sorted(os.listdir(root)) == ['ml-100k', 'ml-100k.zip']

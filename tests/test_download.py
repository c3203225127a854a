"""Downloading, verifying and extracting MovieLens 100K (d2lrec.download)
against a real HTTP server on 127.0.0.1 serving a synthetic zip."""
import hashlib
import os

import pytest

from conftest import ZipServer, make_zip, refused_port

import d2lrec.download as DL
DataError = DL.DataError
TIMEOUT = 5  # seconds; everything is local


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
    """Return a function pointing DATA_HUB['ml-100k'] at a URL, with the
    good zip's sha1, and make the synthetic u.data the expected one."""
    _, sha1, u_sha256, _ = ml100k_zip
    monkeypatch.setattr(DL, 'U_DATA_SHA256', u_sha256)

    def point(url):
        monkeypatch.setitem(DL.DATA_HUB, 'ml-100k', (url, sha1))
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
    assert DL.file_hash(root / 'ml-100k' / 'u.data', 'sha256') == u_sha256
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
    fname = DL.download('ml-100k', root, timeout=TIMEOUT)
    assert fname == str(root / 'ml-100k.zip')
    assert DL.file_hash(fname, 'sha1') == ml100k_zip[1]
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
    assert os.listdir(root) == []  # no zip, no folder, no temporary file


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
    assert DL.DATA_DIR_ENV in message
    assert os.listdir(root) == []


def test_zip_put_where_the_message_says_is_used(hub, root, ml100k_zip):
    hub(refused().replace('ml-100k.zip', 'mirror.zip'))
    with pytest.raises(DataError) as info:
        DL.download_extract_ml100k(root, timeout=TIMEOUT)
    assert str(root / 'ml-100k.zip') in str(info.value)
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
    root, _ = synthetic_ml100k  # DATA_HUB points at a refused port
    before = (root / 'ml-100k' / 'u.data').read_bytes()
    assert DL.download_extract_ml100k(root, timeout=TIMEOUT) == str(
        root / 'ml-100k')
    assert (root / 'ml-100k' / 'u.data').read_bytes() == before
    assert os.listdir(root) == ['ml-100k']


def cache_zip_with_matching_sha1(root, hub, monkeypatch, content):
    """Put `content` at root/ml-100k.zip and make DATA_HUB expect its sha1
    (the network is unreachable), so only extraction can refuse it."""
    root.mkdir()
    (root / 'ml-100k.zip').write_bytes(content)
    hub(refused())
    url = DL.DATA_HUB['ml-100k'][0]
    monkeypatch.setitem(DL.DATA_HUB, 'ml-100k',
                        (url, hashlib.sha1(content).hexdigest()))


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
    monkeypatch.setenv(DL.DATA_DIR_ENV, str(tmp_path / 'env'))
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    assert DL.get_data_dir(tmp_path / 'arg') == str(tmp_path / 'arg')
    assert DL.get_data_dir(str(tmp_path / 'arg')) == str(tmp_path / 'arg')


def test_get_data_dir_env_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.setenv(DL.DATA_DIR_ENV, str(tmp_path / 'env'))
    assert DL.DATA_DIR_ENV == 'D2LREC_DATA_DIR'
    assert DL.get_data_dir() == str(tmp_path / 'env')
    monkeypatch.setenv(DL.DATA_DIR_ENV, '')
    default = str(tmp_path / 'home' / '.cache' / 'd2lrec')
    assert DL.get_data_dir() == default
    monkeypatch.delenv(DL.DATA_DIR_ENV)
    assert DL.get_data_dir() == default
    assert DL.get_data_dir(None) == default


def test_get_data_dir_expands_user_and_makes_absolute(tmp_path,
                                                      monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.chdir(tmp_path)
    assert DL.get_data_dir('~/x') == str(tmp_path / 'home' / 'x')
    assert DL.get_data_dir('rel') == str(tmp_path / 'rel')


def test_download_uses_the_env_root(server, hub, tmp_path, monkeypatch):
    monkeypatch.setenv(DL.DATA_DIR_ENV, str(tmp_path / 'env'))
    hub(server.url('/good/ml-100k.zip'))
    assert DL.download_extract_ml100k(timeout=TIMEOUT) == str(
        tmp_path / 'env' / 'ml-100k')
    assert (tmp_path / 'env' / 'ml-100k.zip').is_file()

"""Plain helpers of the tests (fixtures are in conftest.py): synthetic
MovieLens 100K files, rating matrices, a small model, full disks, a
loopback HTTP server, the book's published cells (`book_cells`) and the
benchmarks' scripts as modules (`benchmark`).

The synthetic ``u.data`` has the real file's format (tab-separated
``user_id item_id rating timestamp``, 1-based ids, no header) but is
small.  The synthetic ``u.item`` (`u_item_bytes`) is Latin-1 and has the
awkward titles of the real one (`SPECIAL_ITEMS`).  `ZipServer` is the
loopback HTTP server that the download tests start.

The tests import it as ``support``: pytest puts ``tests/`` on
``sys.path``, as the folder has no ``__init__.py``.
"""
import errno
import hashlib
import http.server
import importlib.util
import io
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from d2lrec.lab.config import Config

NUM_USERS, NUM_ITEMS, NUM_RATINGS = 30, 40, 400
NAMES = ['user_id', 'item_id', 'rating', 'timestamp']
ZIP_DATE = (2000, 1, 1, 0, 0, 0)  # fixed, so the zip's bytes are too
#: The folds of MovieLens 100K (u1.base/u1.test, ...).
FOLDS = ('u1', 'u2', 'u3', 'u4', 'u5')
#: The MXNet code of D2L §16.2-§16.4 as published, one file per section.
BOOK = pathlib.Path(__file__).parent / 'book'
#: The benchmarks' scripts.
BENCHMARKS = pathlib.Path(__file__).parents[1] / 'benchmarks'


def book_cells(chapter):
    """The code cells of `chapter` (``movielens``, ``mf`` or
    ``autorec``) as the book publishes them (``tests/book/``)."""
    text = (BOOK / f'{chapter}.py').read_text()
    return [cell.rstrip('\n') for cell in text.split('\n# %%\n')[1:]]


def benchmark(name):
    """The script benchmarks/`name`.py as a module, without running its
    main(); benchmarks/ goes on ``sys.path``, as for the script (its
    `tables`)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name,
                                                  BENCHMARKS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_ratings(num_users=NUM_USERS, num_items=NUM_ITEMS,
                 num_ratings=NUM_RATINGS, seed=42):
    """Return a DataFrame of distinct (user, item) ratings in which every
    user and item id of 1..N appears, rows are not in time order and many
    users have several ratings at their latest timestamp (ties)."""
    rng = np.random.RandomState(seed)
    cover = {(k % num_users + 1, k % num_items + 1)
             for k in range(max(num_users, num_items))}
    others = [(u, i) for u in range(1, num_users + 1)
              for i in range(1, num_items + 1) if (u, i) not in cover]
    pick = rng.choice(len(others), num_ratings - len(cover), replace=False)
    pairs = sorted(cover) + [others[k] for k in pick]
    pairs = [pairs[k] for k in rng.permutation(len(pairs))]
    users, items = (np.array(c, dtype=np.int64) for c in zip(*pairs))
    ratings = rng.randint(1, 6, len(pairs))
    # Few distinct times per user, so ties (also at the maximum) are common.
    timestamps = 874724710 + 3600 * rng.randint(0, 6, len(pairs))
    return pd.DataFrame({'user_id': users, 'item_id': items,
                         'rating': ratings.astype(np.int64),
                         'timestamp': timestamps.astype(np.int64)})


def ratings_matrix(rng, shape, density=0.5):
    """A float32 rating matrix with about `density` of its entries in
    1..5 and the rest 0 (unrated), drawn from `rng` (a RandomState)."""
    values = rng.randint(1, 6, shape).astype(np.float32)
    return values * (rng.uniform(size=shape) < density)


def u_data_bytes(df):
    """Return `df` as the bytes of a ``u.data`` file."""
    return ''.join(f'{u}\t{i}\t{r}\t{t}\n' for u, i, r, t in
                   df[NAMES].itertuples(index=False)).encode()


def u_info_bytes(num_users, num_items, num_ratings):
    """Return the bytes of a ``u.info`` file with these counts."""
    return (f'{num_users} users\n{num_items} items\n{num_ratings} '
            f'ratings\n').encode()


#: The synthetic u.data (400 lines; ids 1..30 and 1..40) and its u.info.
GOOD = u_data_bytes(make_ratings())
INFO = u_info_bytes(NUM_USERS, NUM_ITEMS, NUM_RATINGS)


#: Special lines of the synthetic u.item: id -> (title, release date).
SPECIAL_ITEMS = {
    1: ('Misérables, Les (1995)', '01-Jan-1995'),
    2: ('unknown', ''),
    3: ('No Year In Title', '9-Feb-1996'),
    4: ('Seven (Se7en) (1995)', '01-Jan-1995'),
    5: ('Land Before Time III (1995) (V)', '01-Jan-1995'),
    6: ('Heidi Fleiss: Hollywood Madam (1995) ', '09-Feb-1996'),
    7: ('Ellipsis\x85 Movie (1990)', ''),  # Latin-1 0x85 is NEL
}


def u_item_line(item_id, title, date):
    """One line of ``u.item``: id|title|date|video date|url|19 flags."""
    url = '' if title == 'unknown' else 'http://us.imdb.com/M/x'
    return '|'.join([str(item_id), title, date, '', url] + ['0'] * 19)


def u_item_bytes(num_items=NUM_ITEMS):
    """A Latin-1 ``u.item`` for items 1..num_items (CRLF-free, like the
    real one), with the special titles of `SPECIAL_ITEMS`."""
    lines = [u_item_line(i, *SPECIAL_ITEMS.get(
        i, (f'Movie {i} ({1930 + i})', f'01-Jan-{1930 + i}')))
        for i in range(1, num_items + 1)]
    return ('\n'.join(lines) + '\n').encode('latin-1')


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def refused_port():
    """Return a local port on which nothing listens."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def snapshot(root):
    """Every file under `root` (relative path -> bytes)."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, 'rb') as f:
                files[os.path.relpath(path, root)] = f.read()
    return files


def trained_like(model, num_users, num_items, scale=1.0, dropout=0.05):
    """Return ``(net, config)``: an initialized net of `model` on the CPU
    with weights large enough that its predictions span (and leave) the
    rating range, and the `Config` that `build_net` made it from."""
    import mxnet as mx
    from mxnet import np

    from d2lrec.lab.models import build_net
    config = Config(model=model, hidden_layers=(4,), num_factors=3,
                    dropout=dropout)
    net = build_net(config, num_users, num_items)
    mx.random.seed(0)
    net.initialize(init=mx.init.Normal(scale), ctx=mx.cpu())
    if model == 'mf':
        bias = net.user_bias.weight
    else:
        width = num_users if model == 'autorec' else num_items
        net(np.zeros((1, width)))  # ends the deferred initialization
        bias = net.decoder.bias
    bias.set_data(np.full(bias.shape, 3.))  # centred on the ratings
    return net, config


def full_disk_by_dev_full(monkeypatch):
    """Temporary files (``tempfile.mkstemp``: downloads, model files) are
    /dev/full: their writes fail with the kernel's own ENOSPC."""
    if not os.path.exists('/dev/full'):
        pytest.skip('no /dev/full here')
    real = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        fd, name = real(*args, **kwargs)
        os.close(fd)
        return os.open('/dev/full', os.O_WRONLY), name
    monkeypatch.setattr(tempfile, 'mkstemp', mkstemp)


def full_disk_by_patched_write(monkeypatch, error=None):
    """The first write to a file that ``os.fdopen`` opens (downloads,
    model files) stores 100 bytes, then raises `error` (default: ENOSPC;
    ``KeyboardInterrupt()`` is Ctrl-C)."""
    real = os.fdopen
    error = error or OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(bytes(data[:100]))
            raise error

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()
    monkeypatch.setattr(os, 'fdopen', lambda *a, **k: Full(real(*a, **k)))


class _ZipHandler(http.server.BaseHTTPRequestHandler):
    """Serves the server's `files` (path -> bytes), else 404, in two
    halves; see `ZipServer`."""

    def do_GET(self):
        srv = self.server.owner
        srv.requests.append(self.path)
        if self.path not in srv.files:
            self.send_error(404)
            return
        data = srv.files[self.path]
        self.send_response(200)
        self.send_header('Content-Type', 'application/zip')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        if self.path in srv.truncated:
            self.close_connection = True
            return
        if srv.gate:
            deadline = time.monotonic() + 20
            while (not os.path.exists(srv.gate)
                   and time.monotonic() < deadline):
                time.sleep(0.01)
        self.wfile.write(data[len(data) // 2:])
        self.wfile.flush()

    def log_message(self, *args):
        pass


class ZipServer:
    """An HTTP server on 127.0.0.1, in a thread, serving `files` (path ->
    bytes; every path should end in ``/ml-100k.zip``, as d2lrec names the
    cached zip after the URL's last component).  `requests` lists the
    paths asked for.  A path in `truncated` gets the full Content-Length
    but only the first half of its bytes, then the connection closes.
    With `gate` (a file path) set, the server sends half of a zip, then
    waits (at most 20 s) until that file exists before it sends the rest.
    """

    def __init__(self, files, truncated=()):
        self.files, self.truncated = files, set(truncated)
        self.requests, self.gate = [], None
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     _ZipHandler)
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={'poll_interval': 0.05},
                                       daemon=True)
        self.thread.start()
        self.stopped = False

    def url(self, path):
        return f'http://127.0.0.1:{self.httpd.server_address[1]}{path}'

    def stop(self):
        if not self.stopped:
            self.stopped = True
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)


def patch_dataset(monkeypatch, name='ml-100k', **fields):
    """Change the record of the dataset `name` (its URL, its hashes ...)
    for the test, as ``d2lrec.datasets.DATASETS`` holds it."""
    import d2lrec.datasets as DS
    monkeypatch.setitem(DS.DATASETS, name,
                        DS.DATASETS[name]._replace(**fields))


def make_zip(files):
    """Return the bytes of a zip holding `files` (name -> bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, ZIP_DATE), data)
    return buf.getvalue()


def train_json(*args, python=sys.executable):
    """The JSON result of ``python -m d2lrec train --json`` with `args`,
    run by `python` in a fresh process, d2lrec from its own install."""
    env = {name: value for name, value in os.environ.items()
           if name != 'PYTHONPATH'}
    out = subprocess.run([python, '-m', 'd2lrec', 'train', '--json', *args],
                         capture_output=True, text=True, timeout=600,
                         env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])

"""`make test`'s plan (tools/make_test.py), on machines that lack things.

Each machine is simulated in a fresh process: a PATH of its own that has
only the commands named (python3.11, make, ...), a bare HOME (no pyenv,
no cached data), and no network (a proxy on a refused port).  The plan
is printed before anything is installed, so these tests run `make test`
itself where it stops at once, and `tools/make_test.py --plan` where it
would go on to run the parts.
"""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from support import refused_port

ROOT = pathlib.Path(__file__).parents[1]
TOOL = ROOT / 'tools' / 'make_test.py'
PARTS = ['test-unit', 'test-notebooks', 'test-stack', 'test-isa',
         'test-colab', 'test-gpu-stack', 'test-browser', 'test-debian']
#: test-debian's setting where debootstrap is the only thing missing.
DEBIAN_ENABLE = ('apt-get install debootstrap' if os.geteuid() == 0
                 else 'make test as root')


def machine(tmp_path, commands, data=None):
    """The environment of a machine with only `commands` on its PATH
    (each a link to this machine's, or to a stand-in script that does
    nothing), `data` as D2LREC_DATA_DIR, and no network."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name in commands:
        link = bin_dir / name
        real = shutil.which(name)
        if real:
            link.symlink_to(real)
        else:  # chromium, nvidia-smi: only their presence is looked at
            link.write_text('#!/bin/sh\n')
            link.chmod(0o755)
    home = tmp_path / 'home'
    home.mkdir()
    proxy = f'http://127.0.0.1:{refused_port()}'
    env = {'PATH': str(bin_dir), 'HOME': str(home), 'LANG': 'C.UTF-8',
           'https_proxy': proxy, 'http_proxy': proxy}
    if data:
        env['D2LREC_DATA_DIR'] = str(data)
    return env


def plan(env, *args):
    out = subprocess.run([sys.executable, TOOL, '--py', '3.11', '--plan',
                          *args], env=env, capture_output=True, text=True,
                         timeout=60)
    return out.returncode, out.stdout, out.stderr


def section(stdout, title):
    """{part: its line} of the plan's section starting with `title`."""
    lines = stdout.split(title, 1)[1].splitlines()[1:]
    found = {}
    for line in lines:
        if not line.startswith('    '):
            break
        target, _, rest = line.strip().partition(' ')
        found[target] = rest.strip()
    return found


def test_a_bare_machine_runs_what_it_can_and_says_why_not_the_rest(
        tmp_path):
    env = machine(tmp_path, ['make', 'cc'])
    code, out, err = plan(env, '--colab-python', '')
    assert code == 0, err
    assert 'data: none: D2LREC_DATA_DIR unset' in out
    runs, skips = section(out, 'will run'), section(out, 'will not run')
    assert list(runs) == ['test-unit', 'test-stack']
    assert 'skip' in runs['test-unit'] and 'skip' in runs['test-stack']
    assert 'notebook' not in runs['test-stack']
    assert sorted(skips) == sorted(set(PARTS) - set(runs))
    assert 'D2LREC_DATA_DIR=' in skips['test-notebooks']
    assert 'COLAB_PYTHONS=' in skips['test-colab']
    assert skips['test-gpu-stack'].endswith('to run it: GPU=1')
    assert 'apt-get install chromium chromium-driver' in skips[
        'test-browser']
    assert skips['test-debian'].endswith(DEBIAN_ENABLE)


def test_with_everything_every_part_is_planned(tmp_path, real_data):
    env = machine(tmp_path, ['make', 'cc', 'chromium', 'chromedriver',
                             'nvidia-smi', 'debootstrap'],
                  data=os.environ['D2LREC_DATA_DIR'])
    code, out, err = plan(env, '--colab-python', sys.executable)
    assert code == 0, err
    runs = section(out, 'will run')
    expected = set(PARTS)
    if ' avx512f' not in pathlib.Path('/proc/cpuinfo').read_text():
        expected.discard('test-isa')
    if os.geteuid() != 0:  # debootstrap, chroot and mount need root
        expected.discard('test-debian')
    assert sorted(runs) == sorted(expected)


def test_strict_fails_at_once_naming_each_missing_part(tmp_path):
    env = machine(tmp_path, ['make'])
    code, out, err = plan(env, '--strict', '--colab-python', '')
    assert code == 1
    named = [line.split()[5] for line in err.splitlines()]
    assert named == ['test-notebooks', 'test-isa', 'test-colab',
                     'test-gpu-stack', 'test-browser', 'test-debian'] or (
        named == ['test-notebooks', 'test-colab', 'test-gpu-stack',
                  'test-browser', 'test-debian'])
    assert 'no C compiler (cc)' in err and 'GPU=1' not in err


def test_make_test_strict_on_a_python_311_only_machine(tmp_path):
    """Debian 12's case: Python 3.11 and no 3.12.  ``make test STRICT=1``
    stops after its plan, before it makes anything.  It runs on a copy
    of what make test reads until then, so that a wrong answer could not
    start the whole suite here."""
    found = subprocess.run(['python3.11', '-c', 'import sys; print('
                            'sys.executable)'], capture_output=True,
                           text=True)  # the interpreter, not pyenv's shim
    if found.returncode:
        pytest.skip('needs a python3.11 on the PATH')
    env = machine(tmp_path, ['make', 'cc'])
    (tmp_path / 'bin' / 'python3.11').symlink_to(found.stdout.strip())
    copy = tmp_path / 'd2lrec-copy'
    for name in ('Makefile', 'tools/make_test.py', 'd2lrec/_compat.py',
                 'd2lrec/stack.txt', 'd2lrec/datasets.py'):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, copy / name)
    out = subprocess.run(['make', 'test', 'STRICT=1'], cwd=copy, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert 'will run' in out.stdout
    assert ('STRICT=1, and test-colab cannot run: no Python 3.12'
            in out.stderr)
    assert sorted(p.name for p in copy.iterdir()) == ['Makefile', 'd2lrec',
                                                       'tools']


def test_make_chapter_on_a_python_313_only_machine(tmp_path):
    """Debian 13's case: ``make chapter``, no option typed, takes its
    Python 3.13 and the numpy 2 stack (a dry run: ``make -n``)."""
    python = sorted(pathlib.Path.home().glob(
        '.pyenv/versions/3.13*/bin/python3.13'))
    if not python:
        pytest.skip('needs a Python 3.13 in pyenv')
    env = machine(tmp_path, ['make'])
    (tmp_path / 'bin' / 'python3.13').symlink_to(python[-1])
    out = subprocess.run(['make', '-n', 'chapter',
                          'VENV2=/nonexistent/venv'], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    bin_dir = tmp_path / 'bin'
    assert (f'{bin_dir}/python3.13 -m venv --clear /nonexistent/venv'
            in out.stdout)
    assert out.stdout.rstrip().endswith(
        '/nonexistent/venv/bin/python -m d2lrec train')

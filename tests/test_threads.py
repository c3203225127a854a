"""MXNet's thread count (d2lrec.lab.threads): set in the environment, for this
process before mxnet loads, or for the processes started in a block."""
import os
import subprocess
import sys

from d2lrec.lab.threads import (num_cores, threads_for_new_processes,
                                use_all_cores)


def test_use_all_cores_sets_every_core_unless_set(monkeypatch):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    use_all_cores()
    assert os.environ['OMP_NUM_THREADS'] == str(num_cores())
    monkeypatch.setenv('OMP_NUM_THREADS', '3')
    use_all_cores()
    assert os.environ['OMP_NUM_THREADS'] == '3'


def test_threads_imports_no_mxnet():
    code = ('import sys, d2lrec.lab.threads; '
            'assert "mxnet" not in sys.modules, "mxnet imported"')
    subprocess.run([sys.executable, '-c', code], check=True)


def test_new_processes_get_their_threads_then_it_is_restored(monkeypatch):
    def child():
        return subprocess.run(
            [sys.executable, '-c',
             'import os; print(os.environ.get("OMP_NUM_THREADS"))'],
            capture_output=True, text=True, check=True).stdout.strip()

    monkeypatch.setenv('OMP_NUM_THREADS', '7')
    with threads_for_new_processes(1):
        assert child() == '1'
    assert os.environ['OMP_NUM_THREADS'] == '7' == child()
    monkeypatch.delenv('OMP_NUM_THREADS')
    with threads_for_new_processes(2):
        assert child() == '2'
    assert 'OMP_NUM_THREADS' not in os.environ

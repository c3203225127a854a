"""How many threads MXNet's operators use (D2L §13.5's CPUs, in practice).

MXNet reads ``OMP_NUM_THREADS`` once, when a process first imports
mxnet, so these functions only set the environment: `use_all_cores` for
this process, before mxnet loads (the command line, the notebooks), and
`threads_for_new_processes` for the worker processes that
`d2lrec.lab.sweep.train_many` starts.  This module does not import mxnet.
"""
import contextlib
import os


def num_cores():
    """The number of cores this process may run on."""
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity')
             else os.cpu_count())
    return cores or 1


def use_all_cores():
    """Let MXNet's operators use every core this process may run on.

    MXNet 1.9 halves the core count when the CPU reports hyper-threading
    (one thread on a 2-core VM).  An ``OMP_NUM_THREADS`` already set wins.
    It has an effect only before mxnet is first imported.
    """
    os.environ.setdefault('OMP_NUM_THREADS', str(num_cores()))


@contextlib.contextmanager
def threads_for_new_processes(count):
    """Set ``OMP_NUM_THREADS`` to `count` inside the block, then restore
    it: the processes started in the block inherit it, this one keeps its
    threads."""
    before = os.environ.get('OMP_NUM_THREADS')
    os.environ['OMP_NUM_THREADS'] = str(count)
    try:
        yield
    finally:
        if before is None:
            del os.environ['OMP_NUM_THREADS']
        else:
            os.environ['OMP_NUM_THREADS'] = before

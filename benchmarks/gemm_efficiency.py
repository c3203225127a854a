"""How close AutoRec's training step comes to the machine's GEMM rate.

The chapter's training step (943 users -> 500 hidden -> 943, batch 256)
is five single-precision GEMMs: two forward, and in the backward pass the
decoder's weight and input gradients and the encoder's weight gradient.
This script measures, in one process and with the same threads:

1. the machine's GEMM rate on exactly those five shapes, as the fastest
   of MXNet's ``dot``, MXNet's ``FullyConnected`` (oneDNN, the operator
   the Dense layers run) and NumPy's BLAS;
2. the rate of d2lrec's training step (forward, masked L2 loss, backward,
   Adam update), counting only those GEMMs' floating-point operations;
3. the same step without Adam's update, to split the step's time into
   the GEMMs (at the best rate), the update, and the rest;

and prints both rates, their ratio (target >= 0.6) and that split.  A
benchmark, not a test: read the numbers, don't assert on them.

    python benchmarks/gemm_efficiency.py
"""
import time

from d2lrec.lab.threads import use_all_cores

use_all_cores()  # as python -m d2lrec does, before mxnet loads

import mxnet as mx  # noqa: E402
import numpy as onp  # noqa: E402
from mxnet import autograd, gluon, np, npx  # noqa: E402

from d2lrec.lab.loss import L2Loss  # noqa: E402
from d2lrec.autorec import AutoRec  # noqa: E402

BATCH, USERS, HIDDEN = 256, 943, 500
# (m, k) x (k, n) for the five GEMMs of one step
SHAPES = [(BATCH, USERS, HIDDEN), (BATCH, HIDDEN, USERS),  # forward
          (BATCH, USERS, HIDDEN),  # decoder input gradient
          (USERS, BATCH, HIDDEN), (HIDDEN, BATCH, USERS)]  # weight grads
STEP_FLOPS = sum(2 * m * k * n for m, k, n in SHAPES)


def best_seconds(run, repeat=5, number=20):
    """The fastest of `repeat` timings of `number` calls of `run`, per
    call."""
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            run()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def gemm_rate():
    """GFLOP/s of the five GEMMs with MXNet and with NumPy."""
    rng = onp.random.RandomState(0)
    pairs = [(rng.rand(m, k).astype('float32'),
              rng.rand(k, n).astype('float32')) for m, k, n in SHAPES]
    mx_pairs = [(np.array(a), np.array(b)) for a, b in pairs]
    # FullyConnected computes data . weight^T: pass b transposed
    fc_pairs = [(a, np.array(b.T.copy())) for a, b in mx_pairs]

    def mxnet_gemms():
        outs = [np.dot(a, b) for a, b in mx_pairs]
        for out in outs:
            out.wait_to_read()

    def onednn_gemms():
        outs = [npx.fully_connected(a, w, no_bias=True, num_hidden=w.shape[0])
                for a, w in fc_pairs]
        for out in outs:
            out.wait_to_read()

    def numpy_gemms():
        for a, b in pairs:
            a @ b

    return {name: STEP_FLOPS / best_seconds(run) / 1e9
            for name, run in (('MXNet dot', mxnet_gemms),
                              ('MXNet FC', onednn_gemms),
                              ('NumPy BLAS', numpy_gemms))}


def training_step_seconds(steps=20):
    """Seconds per batch of the chapter's training step, with and without
    Adam's update (the difference is the update's cost)."""
    mx.random.seed(0)
    onp.random.seed(0)
    X = onp.random.randint(1, 6, (BATCH, USERS)).astype('float32')
    X[onp.random.rand(BATCH, USERS) < 0.94] = 0  # ML-100K's sparsity
    X = np.array(X)
    net = AutoRec(HIDDEN, USERS)
    net.initialize(init=mx.init.Normal(0.01))
    loss = L2Loss()
    trainer = gluon.Trainer(net.collect_params(), 'adam',
                            {'learning_rate': 0.002, 'wd': 1e-5})

    def step(update=True):
        with autograd.record():
            l = loss(net(X), X)
        l.backward()
        if update:
            trainer.step(BATCH)
        float(l.sum())  # as train_recsys_rating does every batch

    return (best_seconds(step, number=steps),
            best_seconds(lambda: step(update=False), number=steps))


def main():
    npx.set_np()
    gemm = gemm_rate()
    for name, rate in gemm.items():
        print(f'GEMM rate, {name:10s}: {rate:7.1f} GFLOP/s')
    machine = max(gemm.values())
    step, no_update = training_step_seconds()
    print(f'training step        : {STEP_FLOPS / step / 1e9:7.1f} GFLOP/s '
          f'({STEP_FLOPS / 1e9:.2f} GFLOP of GEMMs per batch of {BATCH})')
    print(f'ratio                : {STEP_FLOPS / step / 1e9 / machine:.2f} '
          f'(target >= 0.6)')
    gemms, adam = STEP_FLOPS / machine / 1e9, step - no_update
    print(f'where a step goes    : {step * 1e3:.2f} ms = GEMMs at the best '
          f'rate {gemms * 1e3:.2f} + Adam update {adam * 1e3:.2f} + '
          f'the rest {(step - gemms - adam) * 1e3:.2f}')
    print(f'ratio if the rest took no time: {gemms / (gemms + adam):.2f}')


if __name__ == '__main__':
    main()

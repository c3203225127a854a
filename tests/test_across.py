"""What another stack or another CPU can change in a trained model.

Both test environments run mxnet 1.9.1; they differ in Python (in CI),
numpy (1.23.5 against 2), scipy, pandas, matplotlib and IPython
(requirements.txt, requirements-numpy2.txt).
A CPU differs in the kernels that oneDNN and OpenBLAS choose
(docs/reproducibility.md).  So each of these runs where it has something
to prove, as the notebooks would, at a fraction of their cost:

- ``make test-stack`` sets D2LREC_OTHER_PYTHON to the book's stack's
  Python: the chapter, MF and U-AutoRec (seed 0) give every epoch's test
  RMSE and train loss bit for bit in both stacks, on this machine;
- ``make test-isa`` sets D2LREC_ISA_TEST under an emulated smaller CPU:
  the runs of notebook 03 that move most from one CPU to another, its
  activation pairs with a ReLU encoder, stay within the tolerance of
  03's activation grid (0.005) of 03's numbers, seeds 0, 1 and 2.

Elsewhere they are skipped: the notebooks' own run covers them.
"""
import os
import sys

import pytest

from d2lrec.lab.config import DEFAULT_EPOCHS, Config
from d2lrec.lab.reference import DECIMALS, reference, reference_key
from support import train_json

OTHER_PYTHON = os.environ.get('D2LREC_OTHER_PYTHON')
#: notebooks/03-autorec-exercises.ipynb's tolerance for its activation
#: grid, the cell whose numbers move most between CPUs.
GRID_TOLERANCE = 0.005


def history(python, *args):
    """Every epoch's test RMSE and train loss of ``python -m d2lrec
    train`` with `args`, run by `python` in a fresh process."""
    return [(epoch['test_rmse'], epoch['train_loss'])
            for epoch in train_json(*args, python=python)['history']]


@pytest.mark.skipif(not OTHER_PYTHON, reason='make test-stack runs it '
                    '(D2LREC_OTHER_PYTHON: the other stack\'s Python)')
@pytest.mark.usefixtures('real_data')
@pytest.mark.parametrize('model', ['autorec', 'mf', 'uautorec'])
def test_every_epoch_is_the_other_stacks_bit_for_bit(model):
    here = history(sys.executable, '--model', model, '--seed', '0')
    assert len(here) == DEFAULT_EPOCHS[model]
    assert here == history(OTHER_PYTHON, '--model', model, '--seed', '0')


@pytest.mark.skipif(not os.environ.get('D2LREC_ISA_TEST'),
                    reason='make test-isa runs it (D2LREC_ISA_TEST=1)')
@pytest.mark.usefixtures('real_data')
def test_the_most_chaotic_runs_stay_within_the_grids_tolerance():
    from d2lrec.lab.sweep import train_many
    measured = reference()
    configs = [Config(encoder_act='relu', decoder_act=decoder, seed=seed)
               for decoder in ('sigmoid', 'tanh', 'relu', 'identity')
               for seed in (0, 1, 2)]
    rmses = train_many(configs)
    rounding = 0.5 * 10 ** -DECIMALS
    far = {}
    for config, rmse in zip(configs, rmses):
        recorded = measured[reference_key(config)][f'seed {config.seed}']
        if abs(rmse - recorded) > GRID_TOLERANCE + rounding:
            far[(config.decoder_act, config.seed)] = (rmse, recorded)
    assert far == {}

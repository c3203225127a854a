"""How benchmarks/derive_blend.py chooses the blend's members and nets,
on made-up predictions: a member that does not lower the cross-fitted
RMSE is left out, every candidate of every step is logged, and a second
net is taken only where it helps.  Its real run is checked against the
preset in tests/test_results.py."""
import numpy as onp

from d2lrec.lab.config import Config
from support import benchmark


def made_up_pool(module, noise_of):
    """A pool whose configs (MF with 1, 2, ... factors) predict the truth
    with the noise of `noise_of` (config: [noise of net 1, of net 2])."""
    rng = onp.random.RandomState(0)
    truth = rng.uniform(1, 5, (60, 40))

    class Pool(module.Pool):
        def __init__(self):
            self.ratings = onp.where(rng.uniform(size=truth.shape) < 0.4,
                                     truth, 0)
            self.train_matrix = onp.ones(truth.shape)
            self.configs = list(noise_of)
            self.truth = truth

        def predictions(self, config, nets=1):
            return (truth + sum(noise_of[config][:nets]) / nets, 1.0)
    return Pool()


def mf(factors):
    return Config(model='mf', num_factors=factors)


def test_members_are_added_while_they_lower_the_cross_fitted_rmse():
    module = benchmark('derive_blend')
    rng = onp.random.RandomState(1)
    shape = (60, 40)
    shared = rng.normal(0, 0.6, shape)
    noise_of = {
        mf(1): [shared + rng.normal(0, 0.3, shape)] * 2,
        mf(2): [shared * -1 + rng.normal(0, 0.3, shape)] * 2,  # helps
    }
    pool = made_up_pool(module, noise_of)
    useless = rng.uniform(1, 5, shape)  # knows nothing of the truth
    noise_of[mf(3)] = [useless - pool.truth] * 2
    pool.configs.append(mf(3))
    rows, members = module.select_members(pool, {'mf': mf(1)})
    assert members == [mf(1), mf(2)]  # the best alone first
    assert [(r['stage'], r['name'], r['chosen']) for r in rows] == [
        ('step 1', 'MF', True), ('step 1', 'MF, 2 factors', False),
        ('step 1', 'MF, 3 factors', False),
        ('step 2', 'MF, 2 factors', True),
        ('step 2', 'MF, 3 factors', False),
        ('step 3', 'MF, 3 factors', False)]
    scores = [r['validation_rmse'] for r in rows]
    assert scores[3] < scores[0] - module.MIN_GAIN  # MF 2 helps
    assert scores[5] > scores[3] - module.MIN_GAIN  # MF 3 does not


def test_a_second_net_only_where_it_helps():
    module = benchmark('derive_blend')
    rng = onp.random.RandomState(2)
    shape = (60, 40)
    alike = rng.normal(0, 0.5, shape)
    apart = [rng.normal(0, 0.5, shape) for _ in range(2)]
    for noises, nets in (([alike, alike], 1), (apart, 2)):
        pool = made_up_pool(module, {mf(1): noises})
        rows, chosen = module.choose_nets(pool, [mf(1)])
        assert chosen == nets
        assert [r['chosen'] for r in rows] == [nets == 1, nets == 2]
        assert [r['seconds'] for r in rows] == [2.0, 2.0]

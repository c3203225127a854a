"""benchmarks/routes.py's parts on small made-up data: the side
information read from ``u.item`` and ``u.user``, and the two models it
trains, which must fit their training ratings better than their mean.
Its real run is checked against docs/results.md in tests/test_results.py.
"""
import numpy as onp

from d2lrec.lab.config import Config
from support import benchmark


def low_rank_ratings(num_items=30, num_users=20, seed=0):
    """Ratings 1-5 of rank 2, 60% of them observed (0 elsewhere)."""
    rng = onp.random.RandomState(seed)
    scores = rng.normal(size=(num_items, 2)) @ rng.normal(size=(2, num_users))
    ratings = onp.clip(onp.round(3 + scores), 1, 5)
    return onp.where(rng.uniform(size=ratings.shape) < 0.6, ratings,
                     0).astype('float32')


def training_rmse(ratings, pred):
    observed = ratings > 0
    return onp.sqrt(onp.mean((ratings[observed] - pred[observed]) ** 2))


def mean_rmse(ratings):
    return training_rmse(ratings, onp.full(ratings.shape,
                                           ratings[ratings > 0].mean()))


def test_side_information_is_one_hot_per_user(tmp_path):
    genres = ['0|1|0' + '|0' * 16, '1|0|0' + '|1' * 16]
    (tmp_path / 'u.item').write_text(''.join(
        f'{i}|Movie {i} (1995)|01-Jan-1995||http://x|{g}\n'
        for i, g in enumerate(genres, 1)), encoding='latin-1')
    (tmp_path / 'u.user').write_text(
        '1|24|M|technician|85711\n2|53|F|other|94043\n3|17|M|writer|32067\n')
    item_side, user_side = benchmark('routes').side_information(tmp_path)
    assert item_side.shape == (2, 19)
    assert item_side[0].tolist() == [0, 1] + [0] * 17
    assert user_side.shape == (3, 7 + 1 + 3)
    ages, male, occupations = (user_side[:, :7], user_side[:, 7],
                               user_side[:, 8:])
    assert ages.argmax(axis=1).tolist() == [1, 5, 0]  # 18-24, 50-55, <18
    assert male.tolist() == [1, 0, 1]
    assert (occupations.sum(axis=1) == 1).all()


def test_side_autorec_fits_its_training_ratings(numpy_mode):
    ratings = low_rank_ratings()
    config = Config(hidden_layers=(16,), num_epochs=200, batch_size=10,
                    lr=0.01)
    side = onp.eye(len(ratings), dtype='float32')[:, :5]
    for features in (None, side):
        pred = benchmark('routes').side_autorec(config, ratings, features, 0)
        assert pred.shape == ratings.shape
        assert training_rmse(ratings, pred) < 0.7 * mean_rmse(ratings)


def test_glocal_k_fits_its_training_ratings(numpy_mode):
    ratings = low_rank_ratings()
    module = benchmark('routes')
    settings = dict(module.GLOCAL, num_hiddens=16, lambda_2=0.1,
                    pre_epochs=20, fine_epochs=10)
    pred = module.glocal_k(ratings, 0, settings)
    assert pred.shape == ratings.shape
    assert training_rmse(ratings, pred) < 0.7 * mean_rmse(ratings)

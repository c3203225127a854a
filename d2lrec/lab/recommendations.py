"""Recommendations from a trained model (beyond D2L §16.4; the data is
§16.2's MovieLens 100K).

After training, `predict_ratings` fills in the whole items x users rating
matrix, `recommend` picks a user's best-predicted movies among those the
user has not rated, with titles and years from ``u.item``
(`read_items_ml100k`), and `top_rated` lists the user's own
favourites beside them as a sanity check.  `format_recommendations` turns
both into the lines that ``python -m d2lrec recommend`` prints.  Saving
and loading a model is `d2lrec.lab.modelfile`'s job.
"""
import numbers

import numpy as onp
import pandas as pd

from d2lrec.datasets import RATING_RANGE
from d2lrec.download import download_extract_ml100k
from d2lrec.lab.config import MODELS

# ---------------------------------------------------------- predictions

def predict_ratings(net, model, num_users, num_items, data, devices=None):
    """Return the predicted ratings, a NumPy float32 array items x users.

    `data` holds the ratings the model sees (``u.data``'s columns, 1-based
    ids).  For `model` ``'autorec'`` (item-based, D2L §16.4) the net
    reconstructs each row of the items x users matrix of `data`; for
    ``'uautorec'`` each row of the users x items matrix; for ``'mf'``
    (§16.3) it scores every (user, item) pair and `data` is only checked
    (see `d2lrec.lab.models`).  Runs in inference mode (no dropout, nothing
    recorded), in batches, on the first of `devices` (default: where the
    net's parameters are).  Predictions are clipped to the rating range
    1..5.
    """
    if model not in MODELS:
        raise ValueError(f'model must be one of {MODELS}, got {model!r}')
    _check_ids(data, num_users, num_items)
    from d2lrec.lab.models import predict
    device = devices[0] if devices else _net_device(net)
    pred = predict(net, model, num_users, num_items, data, device)
    return onp.clip(pred, *RATING_RANGE)


def _check_ids(data, num_users, num_items):
    for column, count in (('user_id', num_users), ('item_id', num_items)):
        ids = data[column].to_numpy()
        if len(ids) and (ids.min() < 1 or ids.max() > count):
            raise ValueError(
                f'the {column.replace("_", " ")}s of the ratings run '
                f'{ids.min()}..{ids.max()}, outside 1..{count}: the '
                f'ratings do not belong to this model')


def _net_device(net):
    """The first context of the net's first parameter."""
    for param in net.collect_params().values():
        return param.list_ctx()[0]
    raise ValueError('the net has no parameters')


# ------------------------------------------------------ recommendations

def read_items_ml100k(data_dir=None):
    """Return the movies of ``u.item`` (MovieLens 100K, D2L §16.2): a
    DataFrame indexed by ``item_id`` with the columns ``title`` and
    ``year`` (see `d2lrec.movielens.read_u_item`).

    `data_dir` is the data root (see `d2lrec.datasets.get_data_dir`).  A
    missing or garbled ``u.item`` raises `d2lrec.datasets.DataError`.
    """
    from d2lrec.movielens import read_items
    return read_items(download_extract_ml100k(data_dir))


def recommend(scores, data, user_id, k=10, items=None):
    """Return the `k` movies with the highest predicted rating that user
    `user_id` (1-based) has not rated in `data` (D2L §16.4's model put to
    use).

    `scores` is `predict_ratings`' items x users array.  A DataFrame with
    the columns ``item_id``, ``title``, ``year`` (from `items`,
    `read_items_ml100k`'s result; <NA> without it) and ``predicted``,
    best first, ties broken by item id; its index is the rank, 1..k.
    Fewer rows when the user has rated all but fewer than `k` movies.
    """
    scores = onp.asarray(scores)
    num_items, num_users = scores.shape
    user_id = check_user(user_id, num_users)
    _check_k(k)
    rated = data.item_id[data.user_id == user_id].to_numpy()
    item_ids = onp.arange(1, num_items + 1)
    unseen = ~onp.isin(item_ids, rated)
    pred = scores[unseen, user_id - 1]
    order = onp.lexsort((item_ids[unseen], -pred))[:k]
    return _with_titles(item_ids[unseen][order], items,
                        predicted=pred[order])


def top_rated(data, user_id, k=10, items=None):
    """Return the `k` movies user `user_id` (1-based) rated highest in
    `data` (a sanity check beside `recommend`; D2L §16.2's ratings).

    A DataFrame with the columns ``item_id``, ``title``, ``year`` (from
    `items`; <NA> without it) and ``rating``: highest rating first, then
    the most recent, then by item id; its index is the rank, 1..k.
    """
    num_users = int(data.user_id.max()) if len(data) else 0
    user_id = check_user(user_id, num_users)
    _check_k(k)
    own = data[data.user_id == user_id].sort_values(
        ['rating', 'timestamp', 'item_id'], ascending=[False, False, True],
        kind='stable').head(k)
    return _with_titles(own.item_id.to_numpy(), items,
                        rating=own.rating.to_numpy())


def check_user(user_id, num_users):
    """Return `user_id` as an int; ValueError unless it is one of the
    ids 1..`num_users`."""
    if (isinstance(user_id, bool)
            or not isinstance(user_id, numbers.Integral)):
        raise ValueError(f'the user id must be an integer, got '
                         f'{user_id!r}')
    if not 1 <= user_id <= num_users:
        raise ValueError(f'unknown user id {user_id}: valid ids are '
                         f'1..{num_users}')
    return int(user_id)


def _check_k(k):
    if (isinstance(k, bool) or not isinstance(k, numbers.Integral)
            or k < 1):
        raise ValueError(f'k must be a positive integer, got {k!r}')


def _with_titles(item_ids, items, **values):
    """A DataFrame of `item_ids`, their title and year, and `values`."""
    item_ids = onp.asarray(item_ids, dtype=onp.int64)
    if items is None:
        title = pd.array([pd.NA] * len(item_ids), dtype='string')
        year = pd.array([pd.NA] * len(item_ids), dtype='Int64')
    else:
        found = items.reindex(item_ids)
        title, year = found.title.to_numpy(), found.year.array
    frame = pd.DataFrame({'item_id': item_ids, 'title': title,
                          'year': year, **values})
    frame.index = pd.RangeIndex(1, len(frame) + 1, name='rank')
    return frame


def movie_name(row):
    """"Title (Year)" of a row of `recommend` or `top_rated`; "item N"
    without a title; always one line."""
    title = row['title']
    if pd.isna(title) or not str(title).strip():
        name = f'item {row["item_id"]}'
    else:
        name = ' '.join(str(title).split())  # no line breaks, tabs
    return name if pd.isna(row['year']) else f'{name} ({row["year"]})'


def format_recommendations(user_id, recommended, rated):
    """Return the lines that ``python -m d2lrec recommend`` prints.

    Every line that is not a movie starts with "#".  First a header,
    then each recommended movie on one line, the predicted rating with
    two decimals: ``"  4.83  Star Wars (1977)"``; then, after the header
    "# User N's own top-rated movies ...", the user's own ratings as
    whole numbers: ``"  5     Toy Story (1995)"``.  So
    ``grep -E '^  [0-9]\\.[0-9]{2}  '`` finds the recommendations only.
    """
    lines = [f'# Top {len(recommended)} movies for user {user_id} that '
             f'they have not rated (predicted rating, title):']
    lines += [f'  {row["predicted"]:4.2f}  {movie_name(row)}'
              for _, row in recommended.iterrows()]
    if recommended.empty:
        lines.append(f'# (none: user {user_id} has rated every movie)')
    lines.append(f"# User {user_id}'s own top-rated movies, as a sanity "
                 f'check (their rating, title):')
    lines += [f'  {int(row["rating"]):<4d}  {movie_name(row)}'
              for _, row in rated.iterrows()]
    if rated.empty:
        lines.append(f'# (none: user {user_id} has rated no movie)')
    return lines

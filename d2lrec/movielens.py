"""The files of MovieLens 100K, parsed and checked, and what is wrong
with a dataset's folder (D2L §16.2, "The MovieLens Dataset").

``u.data`` holds the ratings, ``u.info`` their counts and ``u.item`` the
movies.  The book reads ``u.data`` unchecked.  d2lrec reads a dataset's
ratings once their hash says they are the real ones (`d2lrec.download`);
when they are not, `folder_problem` says why, for ``u.data`` naming the
line and what is wrong with it (`read_u_data`).  `fold_test_rows` reads
the test set of a fold, `read_items` the movies' titles.
"""
import csv
import os
import re

import pandas as pd

from d2lrec.datasets import (COLUMNS, DATA_DIR_ENV, DATASETS, DataError,
                             file_hash)

#: The files of ``ml-100k/`` that d2lrec reads: ``u.data``, the ratings;
#: ``u.info`` ("943 users", "1682 items", "100000 ratings"), optional,
#: which when present bounds the ids and the number of ratings; ``u.item``,
#: the titles.  And the scale of the ratings.
ML100K = DATASETS['ml-100k']
U_DATA, U_INFO, U_ITEM = ML100K.ratings, ML100K.info, 'u.item'
RATING_RANGE = ML100K.rating_range

#: ``u.item``: Latin-1 text, one movie a line, '|'-separated: id, title,
#: release date, video release date, IMDb URL and 19 genre flags.
U_ITEM_ENCODING = 'latin-1'
U_ITEM_FIELDS = 24

_INT = re.compile(rb'\s*[-+]?[0-9]+\s*')
_TITLE_YEAR = re.compile(r'(?P<title>.*?)\s*\((?P<year>[0-9]{4})\)'
                         r'(?P<rest>(?:\s*\((?![0-9]{4}\))[^()]*\))*)'
                         r'\s*')
_DATE_YEAR = re.compile(r'.*\b(?P<year>[0-9]{4})\s*')


def _show(line):
    """`line` (str or bytes) for a message: its repr, shortened."""
    if isinstance(line, bytes):
        line = line.rstrip(b'\r\n').decode('utf-8', 'replace')
    return repr(line if len(line) <= 80 else line[:77] + '...')


# ------------------------------------------------------------- the folder

def where_to_put(name, root):
    """The end of every `DataError` about the dataset `name` under
    `root`: where to put a local copy."""
    url = DATASETS[name].url
    return (f'To use a local copy, put the zip from {url} at '
            f'{os.path.join(root, name + ".zip")}, or its extracted folder '
            f'at {os.path.join(root, name)}{os.sep}; or point '
            f'{DATA_DIR_ENV} (or data_dir=) at the folder that holds them.')


def folder_problem(dataset, folder, root):
    """The `DataError` for the `folder` of `dataset` (a
    `d2lrec.datasets.Dataset`) that fails its hash check: what is wrong
    with it, for ``u.data`` down to its first malformed line or
    out-of-range value when it has one."""
    name, ratings = dataset.name, os.path.join(folder, dataset.ratings)
    if not os.path.isdir(folder):
        return DataError(f'{folder} is not a folder. It was left as it is; '
                         f'move it away. ' + where_to_put(name, root))
    if not os.path.isfile(ratings):
        roles = {dataset.ratings: 'the ratings, required',
                 dataset.info: 'their counts, optional'}
        missing = [f'{f} ({role})' for f, role in roles.items()
                   if f and not os.path.isfile(os.path.join(folder, f))]
        held = ', '.join(sorted(os.listdir(folder))) or 'nothing'
        return DataError(
            f'{folder} exists but holds no {dataset.ratings}. Missing: '
            f'{", ".join(missing)}; it holds: {held}. It was left as it '
            f'is; complete it, or move it away so that d2lrec extracts '
            f'the zip again. ' + where_to_put(name, root))
    if dataset.ratings_hash is None:  # the zip beside it is checked
        return DataError(
            f'{folder} is checked by the zip it came from, and '
            f'{folder}.zip is missing or is not the {dataset.title} zip '
            f'({dataset.zip_hash[0]} {dataset.zip_hash[1]}). It was left '
            f'as it is. ' + where_to_put(name, root))
    algorithm, expected = dataset.ratings_hash
    try:
        found = file_hash(ratings, algorithm)
    except OSError as e:
        return DataError(f'cannot read {ratings}: {e}. '
                         + where_to_put(name, root))
    try:
        if dataset.ratings == U_DATA:
            read_u_data(folder)  # for its first concrete problem, if any
    except ValueError as e:
        return DataError(
            f'{e}. {ratings} is not the {dataset.title} {dataset.ratings} '
            f'(its {algorithm} differs); the files were left as they are. '
            f'Replace them with the real ones. ' + where_to_put(name, root))
    return DataError(
        f'{ratings} is not the {dataset.title} {dataset.ratings}: its '
        f'{algorithm} is {found}, expected {expected}. It was left as it '
        f'is. ' + where_to_put(name, root))


# ---------------------------------------------------------------- u.data

def read_u_data(folder):
    """Return ``folder/u.data`` as a DataFrame with the columns
    `COLUMNS`, all int64, checked.

    Raises ValueError naming the file, the 1-based line and the line
    itself for a malformed line (not four tab-separated integers), a
    rating outside `RATING_RANGE` or an id below 1 or beyond the counts.
    The counts are those of ``u.info`` when the folder has one (the real
    one does; then the number of ratings must match too).  Without it, an
    id may not exceed the number of distinct ids in the file, because the
    book sizes its rating matrix by that number (a larger id would fall
    outside it).  pandas' C parser reads the file (~15 ms for the real
    one); only when it fails is the file read again line by line to find
    the bad line.
    """
    path = os.path.join(folder, U_DATA)
    data = _parse_u_data(path)
    info = _read_u_info(folder)

    def problem(mask, column, what):
        row = int(mask.argmax())  # the first True
        value = data.iat[row, data.columns.get_loc(column)]
        return ValueError(
            f'{path}, line {row + 1}: the {column.replace("_", " ")} '
            f'{value} {what}: {_show(_line(path, row + 1))}')

    low, high = RATING_RANGE
    ratings = data.rating.to_numpy()
    bad = (ratings < low) | (ratings > high)
    if bad.any():
        raise problem(bad, 'rating', f'is outside {low}..{high}')
    columns = (('user_id', 'users'), ('item_id', 'items'))
    for column, word in columns:
        ids = data[column].to_numpy()
        if ids.min() < 1:
            raise problem(ids < 1, column,
                          'is not positive (ids start at 1)')
        if info and ids.max() > info[word]:
            raise problem(ids > info[word], column,
                          f'is beyond the {info[word]} {word} counted in '
                          f'{os.path.join(folder, U_INFO)}')
    if info and 'ratings' in info and len(data) != info['ratings']:
        raise ValueError(f'{path} holds {len(data)} ratings, but '
                         f'{os.path.join(folder, U_INFO)} counts '
                         f'{info["ratings"]}: the file is incomplete or '
                         f'has lines too many')
    for column, word in columns:
        ids = data[column].to_numpy()
        distinct = len(pd.unique(ids))
        if ids.max() > distinct:
            raise problem(ids > distinct, column,
                          f'is beyond the {distinct} distinct '
                          f'{column.replace("_", " ")}s in the file: the '
                          f'ids must run 1..{distinct}, as the book sizes '
                          f'its rating matrix by the number of distinct '
                          f'ids')
    return data


def _parse_u_data(path):
    """The DataFrame of ``u.data`` at `path`, unchecked but for its
    format; ValueError names the first malformed line."""
    try:
        with open(path, 'rb') as f:
            first = f.readline()
    except OSError as e:
        raise ValueError(f'cannot read {path}: {e}') from e
    if not first:
        raise ValueError(f'{path} is empty (0 bytes)')
    try:
        # With another number of fields on line 1, pandas would take the
        # first column as the index or drop columns without an error.
        if first.count(b'\t') != len(COLUMNS) - 1:
            raise ValueError('line 1 has the wrong number of fields')
        # Each row is the line of the same number: no header, no quoting,
        # blank lines kept (and rejected), empty fields not read as NaN.
        return pd.read_csv(path, sep='\t', names=COLUMNS,
                           dtype='int64', engine='c', header=None,
                           quoting=csv.QUOTE_NONE, skip_blank_lines=False,
                           na_filter=False)
    except (ValueError, OverflowError) as e:  # ParserError is a ValueError
        raise ValueError(_malformed_line(path)
                         or f'{path} could not be parsed: {e}') from e


def _line(path, number):
    """The bytes of line `number` (1-based) of the file at `path`."""
    with open(path, 'rb') as f:
        for n, line in enumerate(f, 1):
            if n == number:
                return line
    return b''


def _malformed_line(path):
    """The problem of the first line of `path` that is not four
    tab-separated integers of 64 bits, or None (the slow pass)."""
    with open(path, 'rb') as f:
        for n, line in enumerate(f, 1):
            where = f'{path}, line {n}'
            fields = line.rstrip(b'\r\n').split(b'\t')
            if fields == [b'']:
                return f'{where} is empty'
            if len(fields) != len(COLUMNS):
                return (f'{where}: expected {len(COLUMNS)} '
                        f'tab-separated fields (user id, item id, rating, '
                        f'timestamp), got {len(fields)}: {_show(line)}')
            for column, field in zip(COLUMNS, fields):
                what = column.replace('_', ' ')
                if not _INT.fullmatch(field):
                    return (f'{where}: the {what} {_show(field)} is not an '
                            f'integer: {_show(line)}')
                if not -2**63 <= int(field) < 2**63:
                    return (f'{where}: the {what} {_show(field)} does not '
                            f'fit in 64 bits: {_show(line)}')
    return None


def _read_u_info(folder):
    """``{'users': n, 'items': m[, 'ratings': k]}`` from ``folder/u.info``,
    None without it; ValueError if it is malformed."""
    path = os.path.join(folder, U_INFO)
    if not os.path.isfile(path):
        return None
    counts = {}
    with open(path, 'rb') as f:
        lines = f.read().splitlines()
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if (len(parts) != 2 or not re.fullmatch(rb'[0-9]+', parts[0])
                or parts[1] not in (b'users', b'items', b'ratings')):
            raise ValueError(f'{path}, line {n}: expected "<count> users", '
                             f'"<count> items" or "<count> ratings", got '
                             f'{_show(line)}')
        counts[parts[1].decode()] = int(parts[0])
    missing = [w for w in ('users', 'items') if w not in counts]
    if missing:
        raise ValueError(f'{path} gives no count of '
                         f'{" or ".join(missing)}: expected lines such as '
                         f'"943 users" and "1682 items"')
    return counts


# ----------------------------------------------------------------- folds

def fold_test_rows(data, folder, fold):
    """The rows of `data` that ``folder/<fold>.test`` lists: the test set
    of a canonical fold (u1 ... u5)."""
    path = os.path.join(folder, f'{fold}.test')
    try:
        test = pd.read_csv(path, sep='\t', names=COLUMNS,
                           dtype='int64')
    except (OSError, ValueError) as e:
        raise DataError(f'cannot read the fold {fold} from {path}: {e}. '
                        f'It ships in ml-100k.zip; re-extract the zip or '
                        f'use another split.') from e
    pairs = pd.MultiIndex.from_frame(data[['user_id', 'item_id']])
    is_test = pairs.isin(pd.MultiIndex.from_frame(test[['user_id',
                                                         'item_id']]))
    if is_test.sum() != len(test):
        raise DataError(f'{path} lists {len(test)} ratings, of which '
                        f'{is_test.sum()} are in the data: it does not '
                        f'belong to this u.data.')
    return data[is_test]


# ---------------------------------------------------------------- u.item

def read_items(folder):
    """Return the movies of ``folder/u.item`` (see `read_u_item`); a
    missing or garbled file raises `DataError` saying what to do."""
    path = os.path.join(folder, U_ITEM)
    url = ML100K.url
    try:
        return read_u_item(folder)
    except OSError as e:
        raise DataError(
            f'cannot read the movie titles {path}: {e.strerror or e}. '
            f'It ships in ml-100k.zip ({url}); copy u.item from there '
            f'into {folder}, or point {DATA_DIR_ENV} (or data_dir=) at a '
            f'root whose ml-100k/ has it.') from e
    except ValueError as e:
        raise DataError(
            f'{path} is not the MovieLens 100K u.item: {e}. It was left '
            f'as it is; replace it with the u.item of ml-100k.zip '
            f'({url}).') from e


def read_u_item(folder):
    """Return the movies of ``folder/u.item``: a DataFrame indexed by the
    1-based ``item_id`` with the columns ``title`` (without the trailing
    " (YYYY)") and ``year`` (nullable Int64: the year in the title, else
    that of the release date, else <NA>, as for item 267, "unknown").

    The file is Latin-1.  OSError if it cannot be read; ValueError naming
    the line and the problem (not the file) if it is garbled.
    """
    with open(os.path.join(folder, U_ITEM), 'rb') as f:
        text = f.read().decode(U_ITEM_ENCODING)
    ids, titles, years = [], [], []
    # Not splitlines(): Latin-1 byte 0x85 would end a line there.
    for number, line in enumerate(text.split('\n'), 1):
        line = line.rstrip('\r')
        if not line:
            continue
        item_id, title, year = _parse_item(line, number)
        ids.append(item_id)
        titles.append(title)
        years.append(year)
    if not ids:
        raise ValueError('it holds no movies')
    index = pd.Index(ids, name='item_id')
    if index.has_duplicates:
        raise ValueError(f'the item id {index[index.duplicated()][0]} '
                         f'appears twice')
    items = pd.DataFrame({'title': titles,
                          'year': pd.array(years, dtype='Int64')},
                         index=index)
    return items.sort_index()


def _parse_item(line, number):
    """``(item_id, title, year or None)`` of one line of ``u.item``."""
    fields = line.split('|')
    where = f'line {number}'
    if len(fields) != U_ITEM_FIELDS:
        raise ValueError(f'{where} has {len(fields)} \'|\'-separated '
                         f'fields, expected {U_ITEM_FIELDS}: {_show(line)}')
    if not re.fullmatch(r'[0-9]+', fields[0]) or int(fields[0]) < 1:
        raise ValueError(f'{where}: the item id {fields[0]!r} is not a '
                         f'positive integer: {_show(line)}')
    title, year = split_title(fields[1])
    if year is None:
        date = _DATE_YEAR.fullmatch(fields[2])
        year = int(date['year']) if date else None
    return int(fields[0]), title, year


def split_title(text):
    """Split a MovieLens title such as "Toy Story (1995)" into
    ``('Toy Story', 1995)``; without a "(YYYY)", ``(text, None)``.

    What follows the year, such as "(V)", stays in the title.
    """
    match = _TITLE_YEAR.fullmatch(text)
    if not match:
        return text.strip(), None
    title = (match['title'] + match['rest']).strip()
    return title or text.strip(), int(match['year'])

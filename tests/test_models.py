"""The model kinds (d2lrec.lab.models): each kind's net, the rows it reads,
its loaders and evaluator, on synthetic ratings."""
import os
import pathlib
import shutil
import subprocess
import sys

import mxnet as mx
import numpy as onp
import pytest

from d2lrec.lab.models import DeepAutoRec
from d2lrec.lab.config import MODELS, Config
from d2lrec.mf import MF
from d2lrec.lab.models import KINDS, build_net
from support import NUM_ITEMS, NUM_USERS, make_ratings

TESTS = pathlib.Path(__file__).parent

#: The four additions of d2lrec/lab/models.py's recipe for a new kind, as
#: (file, text, the text after the addition): a kind "mf8", MF with
#: 8 factors and its own default epochs and batch size.
RECIPE = (
    ('models.py', "\n#: Every kind of model", """
class MF8Kind(MFKind):
    def build_net(self, config, num_users, num_items):
        return MF(8, num_users, num_items)


#: Every kind of model"""),
    ('models.py', "'mf': MFKind()}", "'mf': MFKind(), 'mf8': MF8Kind()}"),
    ('config.py', "MODELS = ('autorec', 'uautorec', 'mf')",
     "MODELS = ('autorec', 'uautorec', 'mf', 'mf8')"),
    ('config.py', "'mf': 20}", "'mf': 20, 'mf8': 3}"),
    ('config.py', "'mf': 512}", "'mf': 512, 'mf8': 64}"))

#: Trains the new kind with its defaults, in a fresh process.
TRAIN_THE_NEW_KIND = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
import d2lrec
from d2lrec.lab.config import Config
from d2lrec.lab.experiment import train_and_evaluate
from support import NUM_ITEMS, NUM_USERS, make_ratings
assert d2lrec.__file__.startswith(sys.argv[1]), d2lrec.__file__
config = Config(model='mf8')
assert config.budget == (3, 64), config.budget
result = train_and_evaluate(
    config, data=(make_ratings(), NUM_USERS, NUM_ITEMS), plot=False,
    verbose=False)
assert (result['model'], result['epochs']) == ('mf8', 3), result
"""


def test_every_model_of_config_has_a_kind():
    assert set(KINDS) == set(MODELS)


@pytest.mark.parametrize('model, kind, outputs', [
    ('autorec', DeepAutoRec, NUM_USERS), ('uautorec', DeepAutoRec, NUM_ITEMS),
    ('mf', MF, None)])
def test_build_net_makes_the_kinds_net(model, kind, outputs):
    net = build_net(Config(model=model, hidden_layers=(5,)), NUM_USERS,
                    NUM_ITEMS)
    assert isinstance(net, kind)
    if outputs:
        net.initialize()
        width = NUM_ITEMS if model == 'uautorec' else NUM_USERS
        assert net(mx.np.ones((2, width))).shape == (2, outputs)


@pytest.mark.parametrize('model', ['autorec', 'uautorec'])
def test_autorec_rows_are_items_or_users(model):
    data = make_ratings()
    rows = KINDS[model].rows(data, NUM_USERS, NUM_ITEMS)
    first = data.iloc[0]
    item, user = first.item_id - 1, first.user_id - 1
    if model == 'autorec':
        assert rows.shape == (NUM_ITEMS, NUM_USERS)
        assert rows[item, user] == first.rating
    else:
        assert rows.shape == (NUM_USERS, NUM_ITEMS)
        assert rows[user, item] == first.rating
    assert rows.flags.c_contiguous


@pytest.mark.parametrize('model', MODELS)
def test_setup_gives_loaders_and_an_evaluator(model):
    data = make_ratings()
    train, test = data.iloc[:300], data.iloc[300:]
    config = Config(model=model, hidden_layers=(5,))
    train_iter, test_iter, evaluate, kwargs = KINDS[model].setup(
        config, 8, train, test, NUM_USERS, NUM_ITEMS)
    net = build_net(config, NUM_USERS, NUM_ITEMS)
    net.initialize(init=mx.init.Normal(0.01))
    args = (kwargs['inter_mat'],) if kwargs else ()
    rmse = evaluate(net, test_iter, *args, [mx.cpu()])
    # an untrained net predicts about 0, so the RMSE is about the ratings'
    ratings = test.rating.to_numpy()
    assert rmse == pytest.approx(onp.sqrt((ratings ** 2).mean()), rel=0.05)
    assert len(next(iter(train_iter))[0]) == 8


def test_a_batch_larger_than_the_matrix_is_refused():
    data = make_ratings()
    with pytest.raises(ValueError, match='batch size 1000 is larger than '
                       f'the {NUM_ITEMS} rows of the matrix'):
        KINDS['autorec'].setup(Config(), 1000, data, data, NUM_USERS,
                               NUM_ITEMS)


def test_a_kind_added_by_the_recipe_trains(tmp_path):
    package = tmp_path / 'd2lrec'
    shutil.copytree(TESTS.parent / 'd2lrec', package,
                    ignore=shutil.ignore_patterns('__pycache__'))
    for name, text, added in RECIPE:
        path = package / 'lab' / name
        source = path.read_text()
        assert source.count(text) == 1, (name, text)
        path.write_text(source.replace(text, added))
    script = tmp_path / 'train_mf8.py'
    script.write_text(TRAIN_THE_NEW_KIND)
    out = subprocess.run([sys.executable, str(script), str(package)],
                         capture_output=True, text=True, timeout=300,
                         cwd=tmp_path, env={**os.environ,
                                            'MPLBACKEND': 'Agg'})
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]

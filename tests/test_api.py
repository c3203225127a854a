"""d2lrec's public API (``dir(d2lrec)``, ``dir(d2lrec.lab)``), used as a
script uses it: in a fresh Python process that has not set MXNet's NumPy
mode, and in one that has.  Every public function runs there, small, on
the real data, and the caller's mode is the same afterwards.
"""
import pathlib
import subprocess
import sys

import pytest

import d2lrec
from d2lrec import lab

#: Each public name, called as a reader would; the script fails on the
#: first error, and if a public name was not called (a new one must be
#: added here).  `modes` is the caller's mode before and after.
SCRIPT = '''
import sys, tempfile
import d2lrec
from d2lrec import lab
from d2lrec.lab import Config
from d2lrec.lab.evaluation import rmse_evaluator
if sys.argv[1] == 'set_np':
    from mxnet import npx
    npx.set_np()
import mxnet as mx
from mxnet import gluon, util
modes = util.is_np_shape(), util.is_np_array()
called = set()

def use(name):
    called.add(name)
    return getattr(lab if name in lab.__all__ else d2lrec, name)

data, num_users, num_items = use('read_data_ml100k')()
ml100k = use('read_data')()
assert ml100k.num_users == num_users and ml100k.data.equals(data)
items = use('read_items_ml100k')()
use('get_data_dir')()
assert use('download_extract')('ml-100k') == use('download_extract_ml100k')()
assert use('DATA_HUB')['ml-100k']
train, test = use('split_data_ml100k')(data, num_users, num_items)
_, _, _, train_mat = use('load_data_ml100k')(train, num_users, num_items)
_, _, _, test_mat = d2lrec.load_data_ml100k(test, num_users, num_items)
devices = use('try_all_gpus')()
assert use('try_gpu')() == mx.cpu()
assert use('choose_devices')('cpu') == [mx.cpu()]
assert use('get_dataloader_workers')() == 0
# d2l's own, which §16.3's training loop calls
use('Timer')().stop()
use('Accumulator')(3).add(1, 2, 3)
use('Animator')(xlabel='epoch', legend=['train loss'])
use('plt').close('all')

# §16.4 as the chapter writes it, without npx.set_np()
net = use('AutoRec')(50, num_users)
net.initialize(ctx=devices, init=mx.init.Normal(0.01))
train_iter = gluon.data.DataLoader(train_mat, shuffle=True,
                                   last_batch='rollover', batch_size=256)
test_iter = gluon.data.DataLoader(mx.np.array(train_mat.asnumpy()),
                                  shuffle=False, batch_size=1024)
trainer = gluon.Trainer(net.collect_params(), 'adam',
                        {'learning_rate': 0.002, 'wd': 1e-5})
history = use('train_recsys_rating')(
    net, train_iter, test_iter, use('L2Loss')(), trainer, 1, devices,
    use('evaluator'), plot=False, inter_mat=test_mat)
assert 1 < history[-1]['test_rmse'] < 4, history
use('LivePlot')

# §16.3's MF, through the book's split_and_load_ml100k
num_users, num_items, train_iter, test_iter = use('split_and_load_ml100k')(
    'random', batch_size=1024, data=ml100k)
mf = use('MF')(10, num_users, num_items)
mf.initialize(ctx=devices, init=mx.init.Normal(0.01))
trainer = gluon.Trainer(mf.collect_params(), 'adam', {'learning_rate': 0.002})
d2lrec.train_recsys_rating(mf, train_iter, test_iter, lab.L2Loss(),
                           trainer, 1, devices, rmse_evaluator,
                           plot=False, verbose=False)

deep = use('DeepAutoRec')((20, 10), num_users, 'relu', 'sigmoid')
deep.initialize()
assert deep(mx.np.ones((2, num_users))).shape == (2, num_users)
small = Config(hidden_layers=(20,), num_epochs=1)
assert use('build_net')(small, num_users, num_items) is not None
result = use('train_and_evaluate')(small, data=ml100k, plot=False,
                                   verbose=False, return_net=True)
net = result.net
assert use('Config')(seed=1) != use('TUNED')
rmses = use('train_many')([small, Config(model='mf', num_epochs=1)],
                          data=ml100k, workers=2)
table = use('compare')({'20': small}, seeds=(0, 1), data=ml100k, workers=1)
assert table.loc['20', 'seed 0'] == rmses[0] == result['test_rmse']
space = (('hidden', ({'hidden_layers': (10,)}, {'hidden_layers': (20,)})),)
best, log = use('coordinate_search')(space, small, data=ml100k, workers=1)
assert len(use('BLEND').members) == 5
blend = use('Preset')((('20', small), ('MF', Config(model='mf',
                                                   num_epochs=1))))
run = use('train_blend')(blend, data=ml100k)
assert 0.5 < run['test_rmse'] < 4, run
assert list(run['weights']) == ['20', 'MF', 'constant']
assert use('PRESETS')['tuned'].config == use('TUNED')
one = use('run_preset')(use('Preset')((('20', small),)), data=ml100k,
                        verbose=False)
assert one['test_rmse'] == result['test_rmse']
scores = use('predict_ratings')(net, 'autorec', num_users, num_items, data)
assert len(use('recommend')(scores, data, 1, 5, items)) == 5
assert len(use('top_rated')(data, 1, 5, items)) == 5
path = tempfile.mkdtemp() + '/model.npz'
use('save_model')(net, small, num_users, num_items, path)
loaded, config, _, _ = use('load_model')(path)
assert config == small
use('use_all_cores')
for error in ('DataError', 'DivergenceError', 'StackError'):
    assert issubclass(use(error), Exception)

missed = (set(d2lrec.__all__) | set(lab.__all__)) - called
assert not missed, f'not called: {sorted(missed)}'
after = util.is_np_shape(), util.is_np_array()
assert after == modes, f'the mode was {modes}, is {after}'
print('ok', modes)
'''


@pytest.mark.usefixtures('real_data')
@pytest.mark.parametrize('caller', ['plain', 'set_np'])
def test_every_public_name_works_in_a_fresh_process(caller):
    out = subprocess.run([sys.executable, '-c', SCRIPT, caller],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    expected = '(True, True)' if caller == 'set_np' else '(False, False)'
    assert out.stdout.strip().splitlines()[-1] == f'ok {expected}'


def test_no_module_hides_a_public_name():
    """Importing ``d2lrec.x`` binds ``x`` in the package: a module named
    like a public name would replace it once imported."""
    for package in (d2lrec, lab):
        modules = {path.stem for path in pathlib.Path(package.__file__)
                   .parent.glob('*.py')}
        assert not modules & set(package.__all__)

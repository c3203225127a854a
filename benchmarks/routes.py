"""Two routes toward the blend's goals, measured on the validation split
that chose ``--preset blend`` (beyond D2L §16.4).

The preset misses its goals by 0.001-0.003 (docs/results.md).  This
measures what each route adds to its five members, two nets each, on
u1's validation split (benchmarks/derive_blend.py's), by the blend's
cross-fitted RMSE (`d2lrec.lab.blend.cross_fitted_rmse`):

1. **Side information**: the 19 genre flags of ``u.item`` as extra
   inputs of the tuned I-AutoRec, and the age group, gender and
   occupation of ``u.user`` as extra inputs of the blend's U-AutoRec.
   Each is trained beside a control, the same net and loop without them.
2. **A GLocal-K-style member** (Han et al., 2021, their code's settings
   for ML-100K): item-based, two hidden layers of 500 whose weights are
   multiplied by a local kernel of learned 5-d vectors, pre-trained by
   L-BFGS-B, then fine-tuned on the rating matrix convolved with a
   learned 3 x 3 global kernel.  A fixed number of epochs: the paper's
   code keeps the best test epoch instead.

It writes d2lrec/results/routes.csv: a row per candidate and net count,
its RMSE alone, the blend's with it and the seconds of training one net.
docs/results.md shows it.  About 20 minutes on two cores.

    D2LREC_DATA_DIR=../shared/data nice python benchmarks/routes.py
"""
import os
import time

import numpy as onp

from tables import write_csv

#: The age groups of the demographics, by their upper bounds.
AGE_BOUNDS = (17, 24, 34, 44, 49, 55)

#: GLocal-K's settings for ML-100K in its code: hidden units and layers,
#: the kernel vectors' size, the global kernel's size, the weights' L2
#: penalty, the kernel's, L-BFGS-B iterations per epoch and the epochs of
#: pre-training and of fine-tuning.
GLOCAL = {'num_hiddens': 500, 'num_layers': 2, 'kernel_dim': 5,
          'gk_size': 3, 'lambda_2': 20., 'lambda_s': 0.006,
          'iters_per_epoch': 5, 'pre_epochs': 30, 'fine_epochs': 60}


def side_information(folder):
    """The genre flags of the items (items x 19) and the users' age
    group, gender and occupation, one-hot (users x 29), from ``u.item``
    and ``u.user`` in `folder`."""
    import pandas as pd
    items = pd.read_csv(os.path.join(folder, 'u.item'), sep='|',
                        header=None, encoding='latin-1')
    users = pd.read_csv(os.path.join(folder, 'u.user'), sep='|',
                        header=None, names=['id', 'age', 'gender',
                                            'occupation', 'zip'])
    age_group = onp.searchsorted(AGE_BOUNDS, users['age'])
    demographics = onp.concatenate([
        onp.eye(len(AGE_BOUNDS) + 1)[age_group],
        (users['gender'] == 'M').to_numpy()[:, None],
        pd.get_dummies(users['occupation']).to_numpy()], axis=1)
    return (items.iloc[:, 5:].to_numpy(dtype='float32'),
            demographics.astype('float32'))


def side_autorec(config, rows, side, init_seed):
    """One hidden layer AutoRec as `config` (its units, activations,
    dropout, budget, Adam and cosine schedule), trained on the rows of
    `rows` with `side` (or None) beside them as inputs; its prediction
    of every row."""
    import mxnet as mx
    from mxnet import autograd, gluon, np
    from mxnet.gluon import nn
    from d2lrec.lab.loss import L2Loss
    from d2lrec.lab.models import decoder_activation

    class SideAutoRec(nn.Block):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Dense(config.hidden_layers[0],
                                    activation=config.encoder_act)
            self.dropout = nn.Dropout(config.dropout)
            self.decoder = nn.Dense(rows.shape[1])

        def forward(self, ratings, side):
            x = ratings if side is None else np.concatenate(
                [ratings, side], axis=1)
            pred = decoder_activation(config.decoder_act, self.decoder(
                self.dropout(self.encoder(x))))
            if autograd.is_training():  # only observed ratings count
                return pred * np.sign(ratings)
            return pred

    num_epochs, batch_size = config.budget
    mx.random.seed(init_seed)
    onp.random.seed(init_seed)
    net = SideAutoRec()
    net.initialize(init=mx.init.Normal(0.01))
    steps = -(-len(rows) // batch_size)
    trainer = gluon.Trainer(net.collect_params(), 'adam', {
        'learning_rate': config.lr, 'wd': config.wd,
        'lr_scheduler': mx.lr_scheduler.CosineScheduler(
            max_update=num_epochs * steps, base_lr=config.lr,
            final_lr=config.lr / 100)})
    loss = L2Loss()
    ratings = np.array(rows)
    side = None if side is None else np.array(side)
    for _ in range(num_epochs):
        order = onp.random.permutation(len(rows))
        for start in range(0, len(rows), batch_size):
            batch = np.array(order[start:start + batch_size], dtype='int32')
            x = ratings[batch]
            with autograd.record():
                l = loss(net(x, None if side is None else side[batch]), x)
            l.backward()
            trainer.step(len(batch))
    return net(ratings, side).asnumpy()


def glocal_k(train_matrix, init_seed, settings=GLOCAL):
    """A GLocal-K-style model (see the module's docstring) trained on the
    items x users `train_matrix`; its prediction of every entry."""
    import scipy.optimize
    from mxnet import autograd, np, npx
    s = settings
    rng = onp.random.RandomState(init_seed)
    num_items, num_users = train_matrix.shape
    sizes = [num_users] + [s['num_hiddens']] * s['num_layers'] + [num_users]

    def glorot(*shape):  # TensorFlow's default initializer
        fans = shape * 2 if len(shape) == 1 else shape
        limit = onp.sqrt(6 / sum(fans))
        return rng.uniform(-limit, limit, shape)

    def truncated_normal(*shape, std):
        x = rng.normal(0, std, shape)
        while (far := onp.abs(x) > 2 * std).any():
            x[far] = rng.normal(0, std, far.sum())
        return x

    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        params[f'W{i}'] = glorot(n_in, n_out)
        params[f'u{i}'] = truncated_normal(n_in, 1, s['kernel_dim'],
                                           std=1e-3)
        params[f'v{i}'] = truncated_normal(1, n_out, s['kernel_dim'],
                                           std=1e-3)
        params[f'b{i}'] = glorot(n_out)
    params['conv'] = truncated_normal(num_items, s['gk_size'] ** 2, std=0.1)
    shapes = {name: value.shape for name, value in params.items()}
    ratings = np.array(train_matrix, dtype='float32')
    observed = np.sign(ratings)

    def autoencoder(x, p):
        penalty = 0
        for i in range(len(sizes) - 1):
            kernel = np.maximum(0., 1. - np.sum(
                np.square(p[f'u{i}'] - p[f'v{i}']), axis=2))
            penalty = (penalty + s['lambda_s'] / 2 * np.sum(kernel ** 2)
                       + s['lambda_2'] / 2 * np.sum(p[f'W{i}'] ** 2))
            x = np.dot(x, p[f'W{i}'] * kernel) + p[f'b{i}']
            if i < len(sizes) - 2:
                x = npx.sigmoid(x)
        return x, penalty

    def forward(p, fine):
        x = ratings
        if fine:  # the ratings convolved with the global kernel
            pooled = np.mean(autoencoder(ratings, p)[0], axis=1)
            size = s['gk_size']
            kernel = np.dot(pooled, p['conv']).reshape(1, 1, size, size)
            x = npx.relu(npx.convolution(
                ratings.reshape(1, 1, num_items, num_users), kernel,
                kernel=(size, size), pad=(size // 2, size // 2),
                num_filter=1, no_bias=True)).reshape(num_items, num_users)
        return autoencoder(x, p)

    def unflatten(flat):
        p, start = {}, 0
        for name, shape in shapes.items():
            size = int(onp.prod(shape))
            p[name] = np.array(flat[start:start + size].reshape(shape),
                               dtype='float32')
            start += size
        return p

    def loss_and_grad(flat, fine):
        p = unflatten(flat)
        for value in p.values():
            value.attach_grad()
        with autograd.record():
            pred, penalty = forward(p, fine)
            loss = 0.5 * np.sum(np.square(observed * (ratings - pred)))
            loss = loss + penalty
        loss.backward()
        return float(loss), onp.concatenate(
            [value.grad.asnumpy().ravel() for value in p.values()]
        ).astype('float64')

    flat = onp.concatenate([value.ravel() for value in params.values()])
    for fine, epochs in ((False, s['pre_epochs']), (True, s['fine_epochs'])):
        for _ in range(epochs):
            flat = scipy.optimize.minimize(
                loss_and_grad, flat, args=(fine,), jac=True,
                method='L-BFGS-B',
                options={'maxiter': s['iters_per_epoch'], 'maxcor': 10}).x
    return forward(unflatten(flat), True)[0].asnumpy()


def main():
    from d2lrec.lab.threads import use_all_cores
    use_all_cores()
    from mxnet import npx
    npx.set_np()
    from d2lrec.data import read_data_ml100k
    from d2lrec.datasets import DEFAULT
    from d2lrec.download import download_extract
    from d2lrec.lab.blend import (cross_fitted_rmse, member_predictions,
                                  rating_matrices)
    from d2lrec.lab.config import BLEND, PROTOCOL, Config
    from d2lrec.lab.evaluation import (adjust_predictions, observed_rmse,
                                       unseen_entries)
    from d2lrec.lab.experiment import split
    data = read_data_ml100k()
    parts = split(Config(split_mode='u1'), data, validation=True)
    train_matrix, ratings = rating_matrices(parts, *data[1:])
    members = [member_predictions(config, data, parts, True, BLEND.nets)[0]
               for _, config in BLEND.members]
    blend_rmse = cross_fitted_rmse(members, ratings, train_matrix)
    print(f'the preset\'s {len(members)} members: {blend_rmse:.4f}')
    genres, demographics = side_information(download_extract(DEFAULT))
    (_, i_autorec), (_, u_autorec) = BLEND.members[:2]

    def trainers():
        """(candidate, a function of the init seed: the prediction)."""
        matrix = train_matrix.astype('float32')
        for side, label in ((None, 'I-AutoRec, tuned, control'),
                            (genres, 'I-AutoRec, tuned, genres as inputs')):
            yield label, lambda seed, side=side: side_autorec(
                i_autorec, matrix, side, seed)
        for side, label in ((None, 'U-AutoRec, sigmoid decoder, control'),
                            (demographics, 'U-AutoRec, sigmoid decoder, '
                             'age, gender, occupation as inputs')):
            yield label, lambda seed, side=side: side_autorec(
                u_autorec, matrix.T.copy(), side, seed).T
        yield 'GLocal-K-style', lambda seed: glocal_k(matrix, seed)

    unseen = unseen_entries(train_matrix)
    rows = []
    for candidate, train in trainers():
        preds, seconds = [], []
        for init_seed in range(BLEND.nets):
            start = time.perf_counter()
            preds.append(train(init_seed))
            seconds.append(time.perf_counter() - start)
        for nets in sorted({1, BLEND.nets}):  # as member_predictions
            pred = adjust_predictions(sum(preds[:nets]) / nets, unseen,
                                      **PROTOCOL)
            with_it = cross_fitted_rmse(members + [pred], ratings,
                                        train_matrix)
            rows.append({'candidate': candidate, 'nets': nets,
                         'alone_rmse': observed_rmse(ratings, pred),
                         'blend_rmse': with_it, 'gain': blend_rmse - with_it,
                         'seconds_per_net': sum(seconds) / len(seconds)})
            print(f'{candidate}, {nets} net(s): alone '
                  f'{rows[-1]["alone_rmse"]:.4f}, in the blend '
                  f'{with_it:.4f}', flush=True)
    rows.insert(0, {'candidate': 'the preset\'s members', 'nets': BLEND.nets,
                    'alone_rmse': '', 'blend_rmse': blend_rmse, 'gain': 0,
                    'seconds_per_net': ''})
    write_csv(rows, 'routes.csv')


if __name__ == '__main__':
    main()

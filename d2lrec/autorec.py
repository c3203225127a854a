"""AutoRec (D2L §16.4; Sedhain et al., 2015): the chapter's model and
evaluator, then their variants for the exercises.

`AutoRec` and `evaluator` are the notebook's cells, verbatim, kept here
so that the CLI, the tests and later notebooks can import them;
``tests/test_notebook_sync.py`` fails when the notebook's copy and this
one drift apart (d2l's ``#@save`` idea).

`DeepAutoRec` is AutoRec of any depth, with a choice of activations
(exercises 1-3).  ``DeepAutoRec((500,), n)`` with the defaults is the
chapter's `AutoRec`: same layers, same parameter order, so the same seed
gives the same run (``tests/test_autorec.py`` checks it).  Fed the rows of
the items x users matrix it is item-based AutoRec (I-AutoRec); fed the
rows of the users x items matrix (its transpose) it is user-based AutoRec
(U-AutoRec).
"""
from mxnet import autograd, gluon, np, npx
from mxnet.gluon import nn
from mxnet.util import use_np

from d2lrec.config import check


class AutoRec(nn.Block):
    def __init__(self, num_hidden, num_users, dropout=0.05):
        super(AutoRec, self).__init__()
        self.encoder = nn.Dense(num_hidden, activation='sigmoid',
                                use_bias=True)
        self.decoder = nn.Dense(num_users, use_bias=True)
        self.dropout = nn.Dropout(dropout)

    def forward(self, input):
        hidden = self.dropout(self.encoder(input))
        pred = self.decoder(hidden)
        if autograd.is_training():  # Mask the gradient during training
            return pred * np.sign(input)
        else:
            return pred


def evaluator(network, inter_matrix, test_data, devices):
    scores = []
    for values in inter_matrix:
        feat = gluon.utils.split_and_load(values, devices, even_split=False)
        scores.extend([network(i).asnumpy() for i in feat])
    recons = np.array([item for sublist in scores for item in sublist])
    # Calculate the test RMSE
    rmse = np.sqrt(np.sum(np.square(test_data - np.sign(test_data) * recons))
                   / np.sum(np.sign(test_data)))
    return float(rmse)


# The chapter's cells run after npx.set_np(); these run in its NumPy mode
# whatever mode the caller is in, and leave the caller's as it was.
AutoRec, evaluator = use_np(AutoRec), use_np(evaluator)


def decoder_activation(name, x):
    """Apply decoder activation `name` to `x`, mapped onto ratings 1..5.

    A bounded activation cannot reach ratings above 1, so ``sigmoid`` is
    ``1 + 4 sigmoid(x)`` and ``tanh`` is ``3 + 2 tanh(x)``; ``relu`` and
    ``identity`` are used as they are.
    """
    if name == 'sigmoid':
        return 1 + 4 * npx.sigmoid(x)
    if name == 'tanh':
        return 3 + 2 * np.tanh(x)
    if name == 'relu':
        return npx.relu(x)
    return x


@use_np
class DeepAutoRec(nn.Block):
    """AutoRec with hidden layers `hidden_layers` (e.g. ``(500, 250, 500)``).

    Every hidden layer uses `encoder_act` and is followed by dropout; the
    output layer has `num_outputs` units and `decoder_act` (see
    `decoder_activation`).  As in the chapter, the output is masked by the
    sign of the input during training, so only observed ratings count.

    >>> net = DeepAutoRec((500, 250, 500), num_outputs=943)
    >>> net.initialize()
    >>> net(np.ones((2, 943))).shape
    (2, 943)
    """

    def __init__(self, hidden_layers, num_outputs, encoder_act='sigmoid',
                 decoder_act='identity', dropout=0.05):
        super().__init__()
        hidden_layers = check('hidden_layers', hidden_layers)
        check('encoder_act', encoder_act)
        check('decoder_act', decoder_act)
        self.encoder = nn.Sequential()
        for num_hidden in hidden_layers:
            self.encoder.add(nn.Dense(
                num_hidden, use_bias=True,
                activation=None if encoder_act == 'identity'
                else encoder_act))
            self.encoder.add(nn.Dropout(dropout))
        self.decoder = nn.Dense(num_outputs, use_bias=True)
        self.decoder_act = decoder_act

    def forward(self, input):
        pred = decoder_activation(self.decoder_act,
                                  self.decoder(self.encoder(input)))
        if autograd.is_training():  # Mask the gradient during training
            return pred * np.sign(input)
        return pred

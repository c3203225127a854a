"""AutoRec (D2L §16.4; Sedhain et al., 2015): the chapter's model and
evaluator.

`AutoRec` and `evaluator` are the notebook's cells, verbatim, kept here
so that the tests and later notebooks can import them;
``tests/test_notebook_sync.py`` fails when the notebook's copy and this
one drift apart (d2l's ``#@save`` idea).  Their variants for the
exercises are in `d2lrec.lab.models`.
"""
from mxnet import autograd, gluon, np
from mxnet.gluon import nn
from mxnet.util import use_np


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

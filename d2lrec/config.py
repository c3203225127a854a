"""Model names, activations, per-model defaults and CPU threads
(D2L §16.3/§16.4).

Kept apart, without mxnet, because the thread count must be set before
mxnet loads, and the command line offers these names before that.
"""
import os

#: ``autorec`` is the chapter's item-based AutoRec, ``uautorec`` the
#: user-based one, ``mf`` §16.3's matrix factorization.
MODELS = ('autorec', 'uautorec', 'mf')

#: The five canonical train/test folds shipped in ml-100k.zip.
FOLDS = ('u1', 'u2', 'u3', 'u4', 'u5')

#: Activations for the encoder (every hidden layer) and the decoder.
ACTIVATIONS = ('sigmoid', 'tanh', 'relu', 'identity')

#: The chapter's settings for AutoRec, §16.3's for MF.
DEFAULT_EPOCHS = {'autorec': 25, 'uautorec': 25, 'mf': 20}
DEFAULT_BATCH_SIZE = {'autorec': 256, 'uautorec': 256, 'mf': 512}


def use_all_cores():
    """Let MXNet's operators use every core this process may run on.

    MXNet 1.9 halves the core count when the CPU reports hyper-threading
    (one thread on a 2-core VM).  An ``OMP_NUM_THREADS`` already set wins.
    It has an effect only before mxnet is first imported; results are the
    same with any thread count.
    """
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity')
             else os.cpu_count())
    os.environ.setdefault('OMP_NUM_THREADS', str(cores or 1))


#: The tuned item-based AutoRec (``--preset tuned``): the result of
#: `d2lrec.tune.coordinate_search` on a validation split carved from the
#: training set, which notebooks/04-tuned-autorec.ipynb reruns and checks.
TUNED = {'model': 'autorec', 'hidden_layers': (1000,),
         'encoder_act': 'sigmoid', 'decoder_act': 'relu', 'dropout': 0.05,
         'wd': 1e-5, 'num_epochs': 60, 'lr': 0.002, 'lr_schedule': 'cosine',
         'clip': True, 'unseen_rating': 3}

PRESETS = {'tuned': TUNED}

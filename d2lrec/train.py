"""The training loop for rating prediction (D2L §16.3/§16.4): d2l's
``train_recsys_rating`` adds a running sum to its accumulator every batch
(it prints "train loss 0.000"), counts matrix elements as examples,
evaluates ``try_all_gpus()`` at import time, and plots SVG."""
import math
import sys
import time

from mxnet import autograd, np
from mxnet.util import use_np

from d2lrec.datasets import RATING_RANGE
from d2lrec.devices import split_batch, try_all_gpus

#: The chapter's learning rate (its Adam's, D2L §16.4), which a
#: `DivergenceError` names.
CHAPTER_LR = 0.002


class DivergenceError(ArithmeticError):
    """Training diverged (D2L §16.3's loop would go on printing ``nan``):
    an epoch's mean train loss is not finite, or its test RMSE is not
    finite or wider than the rating scale.  Initialize the model again
    before training it again."""


def _check_diverged(epoch, num_epochs, train_loss, test_rmse, trainer):
    """Raise `DivergenceError` if `train_loss` is not finite or
    `test_rmse` (None when the epoch was not evaluated) is not finite or
    wider than the rating scale."""
    low, high = RATING_RANGE
    bad = [] if math.isfinite(train_loss) else [
        f'the mean train loss is {train_loss}']
    if test_rmse is not None and not math.isfinite(test_rmse):
        bad.append(f'the test RMSE is {test_rmse}')
    elif test_rmse is not None and test_rmse > high - low:
        bad.append(f'the test RMSE is {test_rmse:.4g}, more than '
                   f'{high - low}, the width of the rating scale '
                   f'{low}-{high}')
    if not bad:
        return
    try:
        cause = (f'learning rate too high? got '
                 f'lr={float(trainer.learning_rate):g}; lower it (the '
                 f"chapter's Adam uses {CHAPTER_LR:g}), re-initialize the "
                 f'model and train again')
    except Exception:  # no optimizer with a learning rate
        cause = ('learning rate too high? Lower it, re-initialize the '
                 'model and train again')
    raise DivergenceError(
        f'training diverged in epoch {epoch}/{num_epochs}: '
        f'{" and ".join(bad)}. Likely cause: {cause}.')


@use_np
def train_recsys_rating(net, train_iter, test_iter, loss, trainer,
                        num_epochs, devices=None, evaluator=None, plot=None,
                        progress=None, verbose=True, every_epoch=True,
                        **kwargs):
    """Train `net` for rating prediction and return the per-epoch history
    (D2L §16.3, used by §16.4; the book's returns None, docs/book.md).

    Arguments are the book's: each batch from `train_iter` is split over
    `devices` (default: `try_all_gpus()`); its last array is the label,
    the others the inputs (a single array is both, as in AutoRec).  After
    each epoch (with `every_epoch` False, the last only) `evaluator`
    gives the test RMSE: ``evaluator(net, test_iter, inter_mat,
    devices)`` when ``inter_mat=`` is passed, else ``evaluator(net,
    test_iter, devices)``.  `plot` draws a live curve (default: inside
    Jupyter), or is an object whose ``add(epoch, (train_loss,
    test_rmse))`` gets each epoch's point; `progress`, a file, gets a
    line per epoch; `verbose` prints the book's two summary lines.

    Returns a dict per epoch: ``epoch``, ``train_loss`` (the mean loss per
    example), ``test_rmse`` (None where not evaluated) and ``seconds``.
    Raises `DivergenceError`, and ValueError for a batch that does not
    split evenly over `devices`.
    """
    devices = devices or try_all_gpus()
    # The nets run in NumPy mode, so their parameters are mxnet.numpy
    # arrays, which a Trainer made before npx.set_np() refuses by default.
    trainer.optimizer.allow_np_array = True
    if plot is None:
        plot = in_notebook()
    animator = plot if hasattr(plot, 'add') else None
    if plot and not animator:
        from d2lrec.plot import LivePlot
        animator = LivePlot(xlabel='epoch', xlim=[1, num_epochs],
                            ylim=[0, 2], legend=['train loss', 'test RMSE'])
    history = []
    for epoch in range(num_epochs):
        loss_sum, num_examples = np.zeros((), dtype='float64'), 0
        start = time.perf_counter()
        for values in train_iter:
            values = values if isinstance(values, list) else [values]
            parts = split_batch(values, devices, even_split=True)
            with autograd.record():  # the last array is the label
                preds = [net(*(part[:-1] if len(part) > 1 else part))
                         for part in parts]
                ls = [loss(p, part[-1]) for p, part in zip(preds, parts)]
            for l in ls:
                l.backward()
            trainer.step(values[0].shape[0])
            loss_sum = loss_sum + sum(  # on the device: no wait each batch
                l.sum().astype('float64').as_in_ctx(loss_sum.ctx)
                for l in ls)
            num_examples += values[0].shape[0]
        loss_sum = float(loss_sum)  # waits for the epoch's last batch
        seconds = time.perf_counter() - start
        if not num_examples:
            raise ValueError('train_iter yielded no batch in epoch '
                             f'{epoch + 1}: is the batch size larger than '
                             'the training set?')
        test_rmse = None  # evaluating draws no random numbers: skipping
        if every_epoch or epoch + 1 == num_epochs:  # it changes no training
            if 'inter_mat' in kwargs:  # AutoRec scores against a matrix
                test_rmse = evaluator(net, test_iter, kwargs['inter_mat'],
                                      devices)
            else:
                test_rmse = evaluator(net, test_iter, devices)
        _check_diverged(epoch + 1, num_epochs, loss_sum / num_examples,
                        test_rmse, trainer)
        history.append({'epoch': epoch + 1,
                        'train_loss': loss_sum / num_examples,
                        'test_rmse': test_rmse, 'seconds': seconds,
                        'examples': num_examples})
        if animator:
            animator.add(epoch + 1, (loss_sum / num_examples, test_rmse))
        if progress:
            rmse = '-' if test_rmse is None else f'{test_rmse:.4f}'
            print(f'epoch {epoch + 1}/{num_epochs}: train loss '
                  f'{loss_sum / num_examples:.4f}, test RMSE {rmse}, '
                  f'{num_examples / seconds:.1f} examples/sec',
                  file=progress, flush=True)
    last = history[-1]
    examples_per_sec = (sum(h['examples'] for h in history)
                        / sum(h['seconds'] for h in history))
    if verbose:
        print(f'train loss {last["train_loss"]:.3f}, '
              f'test RMSE {last["test_rmse"]:.3f}')
        print(f'{examples_per_sec:.1f} examples/sec on {devices}')
    return history


def in_notebook():
    """Return True inside a Jupyter (IPython kernel) session."""
    if 'IPython' not in sys.modules:
        return False
    from IPython import get_ipython
    return getattr(get_ipython(), 'kernel', None) is not None

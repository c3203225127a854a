"""How far AutoRec goes on MovieLens 100K: each step from the chapter's
settings to the blend preset, measured on every protocol, in one run
(beyond D2L §16.4; notebooks/06-how-far-can-autorec-go.ipynb reads it).

The protocols: the fold u1 with seeds 0, 1 and 2 (a seed moves the
validation split, the initialization and the shuffling), the folds
u2-u5 with seed 0, and d2lrec's random 90/10 splits with seeds 0-4.
On each, every step is trained on that protocol's training set only
and tested once, after the last epoch of its fixed budget; a blend's
weights are fitted on a validation split carved from that training set
(`d2lrec.lab.blend`).  The steps (`steps`): the chapter's settings; the
blend's I-AutoRec alone, one net and two nets averaged; a blend of
I-AutoRec, U-AutoRec and MF; ``--preset blend``, one and two nets per
member.  The nets that several steps share are trained once
(``preds_of``); each step's ``seconds`` still counts all of its own.

Before that, it measures the routes tried for one model (`routes`) on
u1's validation split (seed 0), where the blend's members were chosen.
d2lrec/results/how_far_routes.csv gets one row per route, how_far.csv
one per step and protocol; docs/results.md and the notebook show them
(tests/test_results.py).  About 55 minutes on two cores.

    D2LREC_DATA_DIR=../shared/data nice python benchmarks/how_far.py
"""
import dataclasses
import sys

from tables import write_csv

#: (name, split mode, seed) of every protocol.
PROTOCOLS = ([('u1', 'u1', seed) for seed in range(3)]
             + [(f'u{k}', f'u{k}', 0) for k in range(2, 6)]
             + [('random', 'random', seed) for seed in range(5)])


def steps():
    """The steps, in order: (name, `Preset`, what the row reads from a
    blend's run: ``'blend'`` or a member's name)."""
    from d2lrec.lab.config import BLEND, CHAPTER, Preset
    first, *_ = BLEND.members
    three = Preset(tuple((name, config) for name, config in BLEND.members
                        if name in ('I-AutoRec', 'U-AutoRec sigmoid',
                                    'MF')))
    two_nets = dataclasses.replace(BLEND, nets=2)
    return (("the chapter's settings", CHAPTER, None),
            ('I-AutoRec, one net', BLEND, first[0]),
            ('I-AutoRec, 2 nets averaged', two_nets, first[0]),
            ('blend of I-AutoRec, U-AutoRec and MF', three, 'blend'),
            ('--preset blend', BLEND, 'blend'),
            ('--preset blend, 2 nets each', two_nets, 'blend'))


def routes():
    """The routes tried for one model: (name, Config)."""
    from d2lrec.lab.config import BLEND, TUNED
    base = BLEND.members[0][1]
    return (('the blend\'s I-AutoRec', base),
            ('--preset tuned', TUNED),
            ('2000 hidden units, dropout 0.5',
             dataclasses.replace(base, hidden_layers=(2000,), dropout=0.5)),
            ('two hidden layers of 1000',
             dataclasses.replace(base, hidden_layers=(1000, 1000))),
            ('500 hidden units', dataclasses.replace(base,
                                                     hidden_layers=(500,))),
            ('weight decay 1e-4', dataclasses.replace(base, wd=1e-4)),
            ('100 epochs', dataclasses.replace(base, num_epochs=100)),
            ('tanh encoder', dataclasses.replace(base, encoder_act='tanh')),
            *((f'member: {name}', config)
              for name, config in BLEND.members[1:]))


def measure_routes(data):
    """Each route's validation RMSE on u1 with seed 0."""
    from d2lrec.lab.experiment import train_and_evaluate
    rows = []
    for name, config in routes():
        run = train_and_evaluate(dataclasses.replace(config, split_mode='u1'),
                                 validation=True, data=data, plot=False,
                                 verbose=False, every_epoch=False)
        rows.append({'route': name, 'validation_rmse': run['test_rmse'],
                     'seconds': run['seconds']})
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def measure_steps(data):
    """Every step's test RMSE and seconds on every protocol."""
    from d2lrec.lab.blend import train_blend
    from d2lrec.lab.experiment import train_and_evaluate
    rows = []
    for protocol, split_mode, seed in PROTOCOLS:
        preds_of = {}
        for step, settings, read in steps():
            if settings.blended:
                run = train_blend(settings, split_mode, seed, data=data,
                                  preds_of=preds_of)
                if read != 'blend':  # a member alone
                    run = run['members'][read]
            else:
                run = train_and_evaluate(
                    dataclasses.replace(settings.config, split_mode=split_mode,
                                        seed=seed),
                    data=data, plot=False, verbose=False, every_epoch=False)
            rows.append({'step': step, 'protocol': protocol, 'seed': seed,
                         'test_rmse': run['test_rmse'],
                         'seconds': run['seconds']})
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main():
    from d2lrec.lab.threads import use_all_cores
    use_all_cores()
    from d2lrec.data import read_data_ml100k
    data = read_data_ml100k()
    write_csv(measure_routes(data), 'how_far_routes.csv')
    write_csv(measure_steps(data), 'how_far.csv')


if __name__ == '__main__':
    main()

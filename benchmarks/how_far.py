"""How far AutoRec goes on MovieLens 100K: each step from the chapter's
settings to the blend preset, measured on every protocol, in one run
(beyond D2L §16.4; notebooks/06-how-far-can-autorec-go.ipynb reads it).

The protocols: the fold u1 with seeds 0, 1 and 2 (a seed moves the
validation split, the initialization and the shuffling; the nets of
different seeds are disjoint, `d2lrec.lab.blend.init_seeds`), the folds
u2-u5 with seed 0, and d2lrec's random 90/10 splits with seeds 0-4.
On each, every step is trained on that protocol's training set only
and tested once, after the last epoch of its fixed budget; a blend's
weights are fitted on a validation split carved from that training set
(`d2lrec.lab.blend`).  The blend's members and nets were chosen on u1's
validation split (benchmarks/derive_blend.py): on the other protocols
they are "chosen on u1".  The steps (`steps`): the chapter's settings,
``--preset tuned`` and ``--preset blend``, and each of the blend's
members alone (its nets averaged, from the blend's run).  About an hour
on two cores.

d2lrec/results/how_far.csv gets one row per step and protocol;
docs/results.md, the README and the notebook show them
(tests/test_results.py).

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
    """The steps, in order: (name, `Preset`)."""
    from d2lrec.lab.config import BLEND, CHAPTER, PRESETS
    return (("the chapter's settings", CHAPTER),
            ('--preset tuned', PRESETS['tuned']),
            ('--preset blend', BLEND))


def measure_steps(data):
    """Every step's test RMSE and seconds on every protocol, and each
    blend member's own (its nets averaged; its seconds those of its
    final fits)."""
    from d2lrec.lab.blend import train_blend
    from d2lrec.lab.experiment import train_and_evaluate
    rows = []
    for protocol, split_mode, seed in PROTOCOLS:
        for step, settings in steps():
            if settings.blended:
                run = train_blend(settings, split_mode, seed, data=data)
                for name, member in run['members'].items():
                    rows.append({'step': f'member: {name}',
                                 'protocol': protocol, 'seed': seed,
                                 **member})
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
    write_csv(measure_steps(data), 'how_far.csv')


if __name__ == '__main__':
    main()

"""Derive ``--preset blend`` (d2lrec.lab.config.BLEND) from scratch, on
u1's validation split only, and write every choice to
d2lrec/results/blend_search.csv (beyond D2L §16.4).

The validation split is 10% of u1.base (seed 0,
`d2lrec.lab.experiment.split`); the members train on the rest.  u1.test
chooses nothing.  Three steps, each logged:

1. **search**: each model kind's settings by
   `d2lrec.lab.tune.coordinate_search` from the tuned preset's start.
   I-AutoRec and U-AutoRec search `d2lrec.lab.tune.SEARCH_SPACE`, written
   for the tuned preset before any blend was measured.  MF searches its
   training budget and weight decay there, and `MF_FACTORS`, written
   here after the earlier blend's test figures were seen.
2. **members**: greedy forward selection from every configuration the
   searches trained, by the blend's `d2lrec.lab.blend.cross_fitted_rmse`
   (weights fitted on four fifths of the validation ratings, scored on
   the fifth left out, for each fifth): it starts from the best and adds
   the candidate that lowers it most, while it lowers it by `MIN_GAIN`
   or more.
3. **nets**: 1 or 2 nets per member, the second net seeded 1: 2 only if
   it lowers the cross-fitted RMSE by `MIN_GAIN`.  (Its seconds, which
   depend on what else the machine runs, choose nothing:
   benchmarks/how_far.py measures a fold's time.)

Each row of the log is one candidate: the step, the member's name, the
search stage and option, its settings (the fields of
`d2lrec.lab.config.Config` that differ from the defaults, as JSON), its
RMSE on the validation ratings (one model's, in the search; the
cross-fitted blend's with it, in the others), the seconds of training it
and whether it was chosen.  tests/test_results.py checks that the chosen
rows are BLEND.  About 15 minutes on two cores.

    D2LREC_DATA_DIR=../shared/data nice python benchmarks/derive_blend.py
"""
import dataclasses
import json
import sys

from tables import write_csv

#: A smaller gain than this does not add a member or a net.
MIN_GAIN = 0.0002

#: The latent factors MF's search tries (written after the earlier
#: blend's test figures were seen).
MF_FACTORS = ('latent factors', tuple({'num_factors': n}
                                      for n in (30, 60, 100)))

#: The model kinds, as members are named.
KIND_NAMES = {'autorec': 'I-AutoRec', 'uautorec': 'U-AutoRec', 'mf': 'MF'}


def settings_of(config):
    """The fields of `config` that differ from `Config`'s defaults, as
    JSON (the split's aside)."""
    from d2lrec.lab.config import SPLIT_SETTINGS, Config
    default = Config()
    return json.dumps({f.name: getattr(config, f.name)
                       for f in dataclasses.fields(Config)
                       if f.name not in SPLIT_SETTINGS
                       and getattr(config, f.name) != getattr(default,
                                                              f.name)})


def spaces():
    """Each kind's search: (kind, space)."""
    from d2lrec.lab.tune import SEARCH_SPACE
    budget, _, _, _, weight_decay = SEARCH_SPACE
    return (('autorec', SEARCH_SPACE), ('uautorec', SEARCH_SPACE),
            ('mf', (budget, MF_FACTORS, weight_decay)))


class Pool:
    """The configurations trained on the validation split, with their
    predictions (one net each, unless asked) and seconds."""

    def __init__(self, data, parts):
        from d2lrec.lab.blend import rating_matrices
        self.data, self.parts = data, parts
        self.train_matrix, self.ratings = rating_matrices(parts, *data[1:])
        self.preds_of, self.configs = {}, []

    def predictions(self, config, nets=1):
        """`config`'s mean prediction of `nets` nets, and their seconds."""
        from d2lrec.lab.blend import member_predictions
        if config not in self.configs:
            self.configs.append(config)
        return member_predictions(config, self.data, self.parts, True,
                                  nets, preds_of=self.preds_of)

    def model_rmse(self, config):
        """The validation RMSE of `config`'s net alone."""
        from d2lrec.lab.evaluation import observed_rmse
        return observed_rmse(self.ratings, self.predictions(config)[0])

    def rmse(self, configs, nets=1):
        """The cross-fitted RMSE of the blend of `configs`."""
        from d2lrec.lab.blend import cross_fitted_rmse
        preds = [self.predictions(config, nets)[0] for config in configs]
        return cross_fitted_rmse(preds, self.ratings, self.train_matrix)


def search(pool):
    """Each kind's coordinate search; return the log's rows and each
    kind's best `Config`."""
    from d2lrec.lab.tune import START, coordinate_search
    rows, best_of = [], {}
    for kind, space in spaces():
        scored = []

        def score(configs):
            scored.extend(configs)
            return [pool.model_rmse(config) for config in configs]
        best, log = coordinate_search(
            space, dataclasses.replace(START, model=kind, split_mode='u1'),
            score=score)
        best_of[kind] = best
        for config, ((stage, option), row) in zip(scored, log.iterrows()):
            rows.append(row_of('search', KIND_NAMES[kind], config, pool,
                               row['validation RMSE'], row['chosen'],
                               stage, option))
        print(f'{KIND_NAMES[kind]}: {best}', file=sys.stderr, flush=True)
    return rows, best_of


def name_of(config, best_of):
    """A member's name: its kind, and what differs from its kind's best
    (e.g. ``I-AutoRec, relu decoder, dropout 0.05``)."""
    best = best_of[config.model]
    return ', '.join([KIND_NAMES[config.model]] + [
        label(f.name, getattr(config, f.name))
        for f in dataclasses.fields(config)
        if getattr(config, f.name) != getattr(best, f.name)])


def label(name, value):
    """Setting `name` at `value`, in words."""
    if name == 'hidden_layers':
        return '-'.join(map(str, value)) + ' units'
    if name in ('encoder_act', 'decoder_act'):
        return f'{value} {name[:7]}'
    if name in ('num_epochs', 'num_factors'):
        return f'{value} {name[4:]}'
    return f'{name} {value}'


def select_members(pool, best_of):
    """Greedy forward selection; return the log's rows and the members."""
    chosen, rows, rmse = [], [], float('inf')
    candidates = list(pool.configs)
    step = 0
    while candidates:
        step += 1
        scores = [pool.rmse(chosen + [config]) for config in candidates]
        best = scores.index(min(scores))
        gain = rmse - scores[best]
        for i, (config, score) in enumerate(zip(candidates, scores)):
            rows.append(row_of('members', name_of(config, best_of), config,
                               pool, score, i == best and gain >= MIN_GAIN,
                               f'step {step}'))
        if gain < MIN_GAIN:
            break
        rmse = scores[best]
        chosen.append(candidates.pop(best))
        print(f'step {step}: {name_of(chosen[-1], best_of)}, {rmse:.4f}',
              file=sys.stderr, flush=True)
    return rows, chosen


def choose_nets(pool, members):
    """1 or 2 nets per member; return the log's rows and the number.
    Each row's seconds are a fold's: every net trained on the validation
    split, and counted twice for the training set."""
    rows = []
    for nets in (1, 2):
        seconds = 2 * sum(pool.predictions(config, nets)[1]
                          for config in members)
        rows.append({'step': 'nets', 'name': f'{nets} net'
                     + 's' * (nets > 1), 'stage': '', 'option': '',
                     'settings': '',
                     'validation_rmse': pool.rmse(members, nets),
                     'seconds': seconds})
    two = (rows[0]['validation_rmse'] - rows[1]['validation_rmse']
           >= MIN_GAIN)
    rows[0]['chosen'], rows[1]['chosen'] = not two, two
    return rows, 2 if two else 1


def row_of(step, name, config, pool, rmse, chosen, stage='', option=''):
    return {'step': step, 'name': name, 'stage': stage, 'option': option,
            'settings': settings_of(config), 'validation_rmse': rmse,
            'seconds': pool.predictions(config)[1], 'chosen': chosen}


def main():
    from d2lrec.lab.threads import use_all_cores
    use_all_cores()
    from d2lrec.data import read_data_ml100k
    from d2lrec.lab.config import Config
    from d2lrec.lab.experiment import split
    data = read_data_ml100k()
    pool = Pool(data, split(Config(split_mode='u1'), data, validation=True))
    search_rows, best_of = search(pool)
    member_rows, members = select_members(pool, best_of)
    net_rows, nets = choose_nets(pool, members)
    write_csv(search_rows + member_rows + net_rows, 'blend_search.csv')
    print(f'nets={nets}')
    for config in members:
        print(f'{name_of(config, best_of)!r}: {settings_of(config)}')


if __name__ == '__main__':
    main()

"""One experiment's settings, as one value (D2L §16.3/§16.4): `Config`.

A `Config` holds every setting of a run: the model, its layers and
activations, the training budget, the split and the protocol options.
Its defaults are the chapter's.  The command line's ``train`` options,
its ``--help`` and the presets are made from its fields,
`d2lrec.lab.experiment.train_and_evaluate`, `d2lrec.lab.sweep.compare` and
`d2lrec.lab.tune.coordinate_search` take it, and a saved model stores it:
adding a setting is adding a field here (adding a model kind: see
`d2lrec.lab.models`).  Each field says, in its
metadata, what values it takes and its command-line option.

It does not import mxnet, so that the command line can check these
settings before mxnet loads.  `check` checks one setting, for `Config`
and for the functions that take one directly.
"""
import argparse
import collections
import dataclasses
import numbers

from d2lrec.datasets import (DATASETS, DEFAULT, FOLDS, RATING_RANGE,
                             SPLIT_MODES)

#: ``autorec`` is the chapter's item-based AutoRec, ``uautorec`` the
#: user-based one, ``mf`` §16.3's matrix factorization.
MODELS = ('autorec', 'uautorec', 'mf')

#: Activations for the encoder (every hidden layer) and the decoder.
ACTIVATIONS = ('sigmoid', 'tanh', 'relu', 'identity')

#: The chapter's settings for AutoRec, §16.3's for MF, where a `Config`
#: leaves ``num_epochs`` or ``batch_size`` at None.
DEFAULT_EPOCHS = {'autorec': 25, 'uautorec': 25, 'mf': 20}
DEFAULT_BATCH_SIZE = {'autorec': 256, 'uautorec': 256, 'mf': 512}

#: A run's epochs and batch size, as `Config.budget` gives them.
Budget = collections.namedtuple('Budget', 'num_epochs batch_size')


def _number(kind, ok, wanted):
    """A check of one number: of type `kind` and `ok`, else `wanted`."""
    def check(value):
        if isinstance(value, bool) or not isinstance(value, kind):
            return False
        return ok(value)  # NaN fails every check
    check.wanted = wanted
    check.kind = int if kind is numbers.Integral else float
    return check


_positive_int = _number(numbers.Integral, lambda v: v > 0, '> 0')
_any_int = _number(numbers.Integral, lambda v: True, 'an integer')
_positive = _number(numbers.Real, lambda v: v > 0, '> 0')
_non_negative = _number(numbers.Real, lambda v: v >= 0, '>= 0')
_fraction = _number(numbers.Real, lambda v: 0 <= v < 1, 'in [0, 1)')
_ratio = _number(numbers.Real, lambda v: 0 < v < 1, 'in (0, 1)')
_rating = _number(numbers.Real,
                  lambda v: RATING_RANGE[0] <= v <= RATING_RANGE[1],
                  'in [{}, {}]'.format(*RATING_RANGE))


def _flag(value):
    return isinstance(value, bool)


_flag.wanted = 'True or False'


def setting(default, help, choices=None, check=None, option=None,
            optional=False, none=None, repr=True):
    """A field of `Config`: its default, its ``--help`` text, and either
    its `choices` or a `check` of a value (see `_number`).  `option` is
    its command-line name (default: the field's, with dashes).  With
    `optional`, the value may be None; `none` says what None stands for
    (e.g. the model's default), for ``--help``.  Without `repr`, the
    field is left out of the config's repr."""
    return dataclasses.field(default=default, repr=repr, metadata=dict(
        help=help, choices=choices, check=check, option=option,
        optional=optional, none=none))


def _per_model(defaults):
    return f'{defaults["autorec"]} for AutoRec, {defaults["mf"]} for MF'



@dataclasses.dataclass(frozen=True)
class Config:
    """The settings of one run; the defaults are the chapter's (D2L
    §16.4: 500 hidden units, Adam with lr 0.002 and weight decay 1e-5,
    25 epochs, batches of 256, dropout 0.05, a random 90/10 split).

    Change one setting with ``dataclasses.replace(config, lr=0.001)`` or
    ``Config(lr=0.001)``.  Invalid values raise ValueError saying which
    and what is allowed:

    >>> Config(hidden_layers=[100]).hidden_layers
    (100,)
    >>> Config(hidden_layers=[0])
    Traceback (most recent call last):
    ValueError: hidden_layers must be positive sizes, got [0]
    """
    model: str = setting(
        'autorec', 'item-based AutoRec (the chapter), user-based AutoRec, '
        'or matrix factorization (§16.3)', choices=MODELS)
    hidden_layers: tuple = setting(
        (500,), 'hidden layer sizes, e.g. 500,250,500',
        option='--hidden-layers')
    encoder_act: str = setting(
        'sigmoid', 'activation of every hidden layer', choices=ACTIVATIONS)
    decoder_act: str = setting(
        'identity', 'activation of the output layer (sigmoid and tanh are '
        'scaled to ratings 1..5)', choices=ACTIVATIONS)
    num_factors: int = setting(30, 'latent factors of MF',
                               check=_positive_int, option='--factors')
    num_epochs: int = setting(None, 'epochs', check=_positive_int,
                              option='--epochs', optional=True,
                              none=_per_model(DEFAULT_EPOCHS))
    lr: float = setting(0.002, 'Adam learning rate', check=_positive)
    lr_schedule: str = setting(None, 'decay the learning rate to 1%% of '
                               '--lr', choices=('cosine',), optional=True)
    wd: float = setting(1e-5, 'weight decay', check=_non_negative)
    batch_size: int = setting(None, 'examples per batch',
                              check=_positive_int, optional=True,
                              none=_per_model(DEFAULT_BATCH_SIZE))
    dropout: float = setting(0.05, 'dropout after every hidden layer',
                             check=_fraction)
    split_mode: str = setting('random', 'random (with --test-ratio), '
                              "seq-aware (each user's latest rating), "
                              "book (the book's unseeded random split, as "
                              'in a fresh process), or a canonical fold '
                              'u1..u5 (on the command line, folds: all '
                              'five and their mean)',
                              choices=SPLIT_MODES, option='--split')
    test_ratio: float = setting(0.1, 'test share of the random splits',
                                check=_ratio)
    clip: bool = setting(False, 'clip predictions to [{}, {}]'.format(
        *RATING_RANGE), check=_flag)
    unseen_rating: float = setting(
        None, 'predict this for test users/items without a training '
        'rating (the AutoRec paper uses 3)', check=_rating, optional=True)
    seed: int = setting(0, 'seeds the split, initialization, dropout and '
                        'shuffling', check=_any_int)
    #: Not in the repr, which describes the model (notebook 04 prints it).
    dataset: str = setting(DEFAULT, 'the ratings: ' + ', '.join(
        f'{d.name} ({d.title})' for d in DATASETS.values()),
        choices=tuple(DATASETS), repr=False)

    def __post_init__(self):
        for field in dataclasses.fields(self):
            object.__setattr__(self, field.name,
                               check(field.name, getattr(self, field.name)))
        folds = DATASETS[self.dataset].folds
        if self.split_mode in FOLDS and self.split_mode not in folds:
            raise ValueError(f'split_mode {self.split_mode!r} is a fold of '
                             f'{DEFAULT}; {self.dataset} has '
                             f'{", ".join(folds) or "none"}')

    @property
    def budget(self):
        """The run's `Budget`: ``num_epochs`` and ``batch_size``, each
        the config's or, where it leaves one at None, its model's default
        (`DEFAULT_EPOCHS`, `DEFAULT_BATCH_SIZE`).

        >>> Config().budget
        Budget(num_epochs=25, batch_size=256)
        >>> Config(model='mf', num_epochs=5).budget
        Budget(num_epochs=5, batch_size=512)
        """
        return Budget(self.num_epochs or DEFAULT_EPOCHS[self.model],
                      self.batch_size or DEFAULT_BATCH_SIZE[self.model])


_FIELDS = {field.name: field for field in dataclasses.fields(Config)}


def check(name, value):
    """Return `value` as setting `name` of `Config` takes it (a tuple of
    hidden layer sizes); raise ValueError saying which setting and what
    it allows if it is not valid.  `Config` checks every setting with it,
    and so do the functions that take one directly (`DeepAutoRec`,
    `split_data_ml100k`)."""
    if name == 'hidden_layers':
        return _layers(value)
    meta = _FIELDS[name].metadata
    if value is None and meta['optional']:
        return value
    if meta['choices'] and value not in meta['choices']:
        raise ValueError(f'{name} must be one of {meta["choices"]}, got '
                         f'{value!r}')
    if meta['check'] and not meta['check'](value):
        raise ValueError(f'{name} must be {meta["check"].wanted}, got '
                         f'{value!r}')
    return value


def _layers(value):
    if isinstance(value, (str, bytes)) or not hasattr(value, '__iter__'):
        raise ValueError(f'hidden_layers must be a list of sizes, got '
                         f'{value!r}')
    layers = tuple(value)
    if not layers or not all(map(_positive_int, layers)):
        raise ValueError(f'hidden_layers must be positive sizes, got '
                         f'{value!r}')
    return layers


def option(name):
    """The command-line option of `Config`'s setting `name`."""
    return (_FIELDS[name].metadata['option']
            or '--' + name.replace('_', '-'))


def add_options(parser, defaults=Config(), groups=None, choices=None):
    """Add one command-line option per `Config` field to `parser`, with
    `defaults` (a `Config`) as their defaults.  ``groups[name]`` (an
    argparse group) takes field `name`'s option instead, and
    ``choices[name]`` replaces its choices.  A default of None is shown
    in the help as what it stands for, where the field says."""
    for field in dataclasses.fields(Config):
        meta = field.metadata
        name = option(field.name)
        default = getattr(defaults, field.name)
        help = meta['help']
        if default is None and meta['none']:
            help += f' (default: {meta["none"]})'
        kwargs = dict(dest=field.name, help=help, default=default)
        if field.type is bool:
            kwargs['action'] = argparse.BooleanOptionalAction
        elif meta['choices']:
            kwargs['choices'] = (choices or {}).get(field.name,
                                                    meta['choices'])
        elif field.name == 'hidden_layers':
            kwargs.update(type=_layer_sizes, metavar='N,N,...')
        else:
            kwargs['type'] = _parse(meta['check'])
        (groups or {}).get(field.name, parser).add_argument(name, **kwargs)


def _parse(check):
    """An argparse type: a number parsed from text, then `check`ed."""
    def parse(text):
        try:
            value = check.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'expected {check.kind.__name__}, got {text!r}') from None
        if not check(value):
            raise argparse.ArgumentTypeError(
                f'must be {check.wanted}, got {text}')
        return value
    return parse


#: An argparse type: a positive integer.
positive_int_option = _parse(_positive_int)


def _layer_sizes(text):
    return tuple(map(positive_int_option, text.split(',')))


#: The options of the standard rating-prediction protocols, off in the
#: chapter and on in the presets: predictions clipped to the rating
#: scale, and for a test user or item without a training rating the
#: AutoRec paper's 3, the middle of the 1-5 scale.
PROTOCOL = {'clip': True, 'unseen_rating': 3}

#: The tuned item-based AutoRec (``--preset tuned``): the result of
#: `d2lrec.lab.tune.coordinate_search` on a validation split carved from the
#: training set of the seed-0 random split, which
#: notebooks/04-tuned-autorec.ipynb reruns and checks.
TUNED = Config(hidden_layers=(1000,), decoder_act='relu', num_epochs=60,
               lr_schedule='cosine', **PROTOCOL)


#: The settings of `Config` that a blend takes: its split's.  Its
#: members fix every other.
SPLIT_SETTINGS = ('split_mode', 'test_ratio', 'seed')


@dataclasses.dataclass(frozen=True)
class Preset:
    """A preset of ``python -m d2lrec train``: its `members`, pairs of a
    name and a `Config`, and the `nets` of each member whose predictions
    are averaged.  One member with one net is that model's own run (the
    ``tuned`` preset); more are blended (``blend``,
    `d2lrec.lab.blend.train_blend`) on the split that the run gives.
    `d2lrec.lab.run.run_preset` runs either.

    >>> Preset((('I-AutoRec', TUNED), ('MF', Config(model='mf')))).nets
    1
    >>> Preset((('MF', Config(model='mf')),), nets=0)
    Traceback (most recent call last):
    ValueError: nets must be > 0, got 0
    """
    members: tuple
    nets: int = 1

    def __post_init__(self):
        members = tuple(self.members)
        if (not members
                or not all(isinstance(member, tuple) and len(member) == 2
                           and isinstance(member[0], str)
                           and isinstance(member[1], Config)
                           for member in members)):
            raise ValueError(f'members must be (name, Config) pairs, got '
                             f'{self.members!r}')
        names = [name for name, _ in members]
        if len(set(names)) < len(names):
            raise ValueError(f'member names must differ, got {names}')
        if not _positive_int(self.nets):
            raise ValueError(f'nets must be > 0, got {self.nets!r}')
        object.__setattr__(self, 'members', members)

    @property
    def blended(self):
        """Whether the preset blends predictions (several members or
        nets), rather than being one model's run."""
        return len(self.members) > 1 or self.nets > 1

    @property
    def config(self):
        """The `Config` a run starts from: the model's; for a blend,
        whose members have their own, the chapter's."""
        return Config() if self.blended else self.members[0][1]

    @property
    def settings(self):
        """The names of the settings of `Config` that a run may change:
        every one of a model's, only the split's of a blend."""
        if self.blended:
            return SPLIT_SETTINGS
        return tuple(field.name for field in dataclasses.fields(Config))


#: ``--preset blend``: five models of the chapter's family, two nets
#: each, blended by `d2lrec.lab.blend.train_blend`: the tuned I-AutoRec,
#: user-based AutoRec with a sigmoid decoder, §16.3's MF (60 epochs with
#: a cosine decay), I-AutoRec with a sigmoid decoder, and the chapter's
#: I-AutoRec trained 100 epochs at lr 0.001 with a cosine decay, each
#: with the tuned preset's protocol options.  benchmarks/derive_blend.py chose every setting, the
#: members and the nets on u1's validation split, carved from u1.base,
#: and logged each choice (d2lrec/results/blend_search.csv).
BLEND = Preset((
    ('I-AutoRec, relu decoder, dropout 0.05', TUNED),
    ('U-AutoRec, sigmoid decoder', dataclasses.replace(
        TUNED, model='uautorec', decoder_act='sigmoid')),
    ('MF, 60 epochs, lr 0.002', Config(model='mf', num_epochs=60,
                                       lr_schedule='cosine', **PROTOCOL)),
    ('I-AutoRec, sigmoid decoder, dropout 0.05',
     dataclasses.replace(TUNED, decoder_act='sigmoid')),
    ('I-AutoRec, 500 units, 100 epochs, lr 0.001, dropout 0.05',
     Config(num_epochs=100, lr=0.001, lr_schedule='cosine', **PROTOCOL)),
), nets=2)

#: The chapter's settings as a preset: ``python -m d2lrec train`` without
#: ``--preset``.
CHAPTER = Preset((('AutoRec', Config()),))

#: The presets of ``python -m d2lrec train --preset``.
PRESETS = {'tuned': Preset((('I-AutoRec', TUNED),)), 'blend': BLEND}

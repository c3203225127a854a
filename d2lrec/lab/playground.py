"""A playground for D2L §16.4's exercises: move AutoRec's hidden units,
layers and activations, press Train, and see the run beside notebook
03's measurements (notebooks/05-autorec-playground.ipynb).

`Playground` is a few ipywidgets core widgets (they render in
JupyterLab, Notebook 7 and Colab) on `Config` and `train_and_evaluate`.
A press of Train trains one `Config` in a background thread, so the page
stays live: the run's test RMSE is drawn epoch by epoch, and a press
during a run is answered, not queued.  Each finished run joins a table
and a chart beside `reference()`, notebook 03's mean and standard
deviation over seeds 0-2 for the settings it measured.  Import this
module explicitly: ``import d2lrec`` does not load ipywidgets.
"""
import contextvars
import io
import threading
import time

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from d2lrec.lab.config import ACTIVATIONS, Config
from d2lrec.data import read_data
from d2lrec.datasets import DATASETS, DEFAULT
from d2lrec.lab.experiment import train_and_evaluate
from d2lrec.lab.reference import DECIMALS, reference, reference_key, typical

#: During a run, the chart is drawn again after an epoch only if its
#: last drawing is at least this old, so drawing slows training little.
REDRAW_SECONDS = 0.5


class Playground:
    """AutoRec's controls, a Train button, a live chart and a table of
    runs, each beside notebook 03's measurement of its setting.

    Display it in a notebook cell.  `press` is what the button calls;
    `wait` waits for the run it started.  `data` (`d2lrec.data.read_data`'s
    result) is loaded at the first run if not given.
    """

    def __init__(self, data=None, data_dir=None):
        self.data, self.data_dir = data, data_dir
        self.reference = reference()
        self.runs = []  # finished runs: (Config, result dict)
        self.curve = []  # the running run's (epoch, test RMSE)
        self.thread = None
        style = {'description_width': '7em'}
        chapter = Config()  # the controls start at the chapter's settings
        self.units = widgets.IntSlider(chapter.hidden_layers[0], min=10,
                                       max=1000, step=10,
                                       description='hidden units',
                                       continuous_update=False,
                                       style=style)
        self.layers = widgets.IntSlider(len(chapter.hidden_layers), min=1,
                                        max=4, style=style,
                                        continuous_update=False,
                                        description='hidden layers')
        self.model = widgets.ToggleButtons(
            options=[('item-based', 'autorec'), ('user-based', 'uautorec')],
            value=chapter.model, description='AutoRec', style=style)
        self.encoder = widgets.Dropdown(options=ACTIVATIONS, style=style,
                                        value=chapter.encoder_act,
                                        description='encoder')
        self.decoder = widgets.Dropdown(options=ACTIVATIONS, style=style,
                                        value=chapter.decoder_act,
                                        description='decoder')
        self.epochs = widgets.IntText(chapter.budget.num_epochs,
                                      description='epochs', style=style)
        self.seed = widgets.IntText(chapter.seed, description='seed',
                                    style=style)
        self.button = widgets.Button(description='Train',
                                     button_style='primary', icon='play')
        self.status = widgets.HTML()
        self.now = widgets.Image(format='png')  # this setting, live
        self.all = widgets.Image(format='png')  # every finished run
        self.drawn = 0  # when `now` was last drawn (time.monotonic)
        self.table = widgets.HTML()
        controls = [self.units, self.layers, self.model, self.encoder,
                    self.decoder, self.epochs, self.seed]
        for control in controls:
            control.observe(self.changed, 'value')
        self.button.on_click(self.press)
        self.status.add_class('d2lrec-status')  # for tests/test_browser.py
        self.table.add_class('d2lrec-runs')
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox(controls[:3]),
                          widgets.VBox(controls[3:])]),
            widgets.HBox([self.button, self.status]),
            widgets.HBox([self.now, self.all]), self.table])
        self.widget.add_class('d2lrec-playground')
        self.changed()
        self.draw_runs()

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)

    def config(self):
        """The controls' `Config`, or None for a setting that can't work,
        after saying why in the status line (`Config`'s message)."""
        try:
            return Config(
                model=self.model.value,
                hidden_layers=(self.units.value,) * self.layers.value,
                encoder_act=self.encoder.value,
                decoder_act=self.decoder.value,
                num_epochs=self.epochs.value, seed=self.seed.value)
        except ValueError as e:
            self.status.value = f"<b>Can't train:</b> {e}"
            return None

    def measured(self, config):
        """03's numbers for `config`'s setting, or None."""
        return self.reference.get(reference_key(config))

    def changed(self, change=None):
        """A control moved: say whether the setting can train, and what
        03 measured for it; redraw the chart's reference."""
        if self.running():
            return
        config = self.config()
        if config is None:
            return
        measured = self.measured(config)
        self.status.value = ('Press Train. ' + (
            'Notebook 03 measured this setting: test RMSE '
            f'{measured["mean"]:.3f} ± {measured["std"]:.3f}.' if measured
            else 'Notebook 03 did not measure this setting.'))
        self.draw_setting(config)

    def running(self):
        return self.thread is not None and self.thread.is_alive()

    def press(self, button=None):
        """The Train button: train the controls' `Config` in a background
        thread, unless a run is on or the setting can't work (then the
        status line says so)."""
        if self.running():
            self.status.value = ('A run is in progress: wait for it to '
                                 'end, then press Train again.')
            return
        config = self.config()
        if config is None:
            return
        self.button.disabled = True
        # In the caller's context: numpy 2 keeps its print options there,
        # and mxnet needs them (d2lrec._compat.print_scalars_as_numpy_1).
        context = contextvars.copy_context()
        self.thread = threading.Thread(target=context.run,
                                       args=(self.train, config),
                                       daemon=True)
        self.thread.start()

    def wait(self):
        """Wait for the run that `press` started, if any."""
        if self.thread is not None:
            self.thread.join()

    def train(self, config):
        """Train and evaluate `config`, drawing its test RMSE after each
        epoch; add it to the runs, or say in the status line why not.
        The status line changes last: "Run N: ..." means all is drawn."""
        self.curve = []
        try:
            if self.data is None:
                self.status.value = f'Loading {DATASETS[DEFAULT].title}...'
                self.data = read_data(DEFAULT, self.data_dir)
            result = train_and_evaluate(config, data=self.data,
                                        plot=_Epochs(self, config),
                                        verbose=False)
        except Exception as e:  # one line, and the page goes on
            message = f"<b>The run failed:</b> {type(e).__name__}: {e}"
        else:
            self.runs.append((config, result))
            table = self.results().round(DECIMALS).reset_index()
            self.table.value = table.to_html(index=False, na_rep='–')
            message = self.summary(config, result['test_rmse'])
        self.draw_setting(config)
        self.draw_runs()
        self.curve = []
        self.button.disabled = False
        self.status.value = message

    def summary(self, config, rmse):
        """One line on a finished run."""
        line = f'Run {len(self.runs)}: test RMSE <b>{rmse:.3f}</b>. '
        measured = self.measured(config)
        if measured is None:
            return line + 'Notebook 03 did not measure this setting.'
        return line + (f'Notebook 03: {measured["mean"]:.3f} ± '
                       f'{measured["std"]:.3f} over seeds 0-2, so this '
                       f'is {"" if typical(rmse, measured) else "not "}'
                       f'typical.')

    def results(self):
        """The finished runs, one row each, beside 03's numbers."""
        rows = []
        for config, result in self.runs:
            measured = self.measured(config) or {}
            rmse = result['test_rmse']
            rows.append({
                'AutoRec': config.model,
                'hidden layers': '-'.join(map(str, config.hidden_layers)),
                'encoder': config.encoder_act,
                'decoder': config.decoder_act,
                'epochs': result['epochs'], 'seed': config.seed,
                'test RMSE': rmse,
                '03, same seed': measured.get(f'seed {config.seed}'),
                '03 mean': measured.get('mean'),
                '03 std': measured.get('std'),
                'typical': ('not measured' if not measured
                            else 'yes' if typical(rmse, measured)
                            else 'no')})
        return pd.DataFrame(rows, index=pd.RangeIndex(
            1, len(rows) + 1, name='run'))

    def epoch(self, config, epoch, rmse):
        """One epoch of the running run: say it, and draw it if the last
        drawing is `REDRAW_SECONDS` old (a drawing can take longer than
        an epoch of the chapter's run, about 0.1 s)."""
        self.curve.append((epoch, rmse))
        self.status.value = (f'Training: epoch {epoch}/{config.num_epochs}'
                             f', test RMSE {rmse:.3f}')
        if time.monotonic() - self.drawn >= REDRAW_SECONDS:
            self.draw_setting(config)

    def draw_setting(self, config):
        """The left chart: the running run's test RMSE per epoch, and 03's
        mean ± std for its setting."""
        fig, axes = _figure('this setting', 'epoch')
        if self.curve:
            axes.plot(*zip(*self.curve), 'o-', ms=3, label='this run')
        measured = self.measured(config)
        if measured:
            axes.axhspan(measured['mean'] - measured['std'],
                         measured['mean'] + measured['std'], color='C1',
                         alpha=0.3, label='03: mean ± std')
        axes.set_xlim(0, config.num_epochs + 1)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if self.curve or measured:
            axes.legend(loc='upper right')
        self.now.value = _png(fig)
        self.drawn = time.monotonic()

    def draw_runs(self):
        """The right chart: each finished run's test RMSE, and 03's mean ±
        std beside it where 03 measured its setting."""
        fig, axes = _figure('all runs', 'run')
        label = '03: mean ± std'  # once in the legend
        for k, (config, result) in enumerate(self.runs, 1):
            axes.plot(k, result['test_rmse'], 'o', color='C0',
                      label='run' if k == 1 else None)
            measured = self.measured(config)
            if measured:
                axes.errorbar(k + 0.2, measured['mean'], measured['std'],
                              fmt='s', color='C1', capsize=3, label=label)
                label = None
        last = max(len(self.runs), 3)
        axes.set_xlim(0.5, last + 0.5)
        axes.set_xticks(range(1, last + 1))
        if self.runs:
            axes.legend(loc='upper right')
        self.all.value = _png(fig)


def _figure(title, xlabel):
    """A small figure with one set of test-RMSE axes.  Its margins are
    fixed: a tight layout would double the time to draw it."""
    fig = Figure(figsize=(4.5, 3))
    fig.subplots_adjust(left=0.17, bottom=0.16, right=0.97, top=0.9)
    axes = fig.add_subplot()
    axes.set(title=title, xlabel=xlabel, ylabel='test RMSE')
    axes.grid(True)
    return fig, axes


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=80)
    return buffer.getvalue()


class _Epochs:
    """What `train_recsys_rating` draws into (`d2lrec.plot.LivePlot`'s
    ``add``): each epoch's test RMSE, passed on to a `Playground`."""

    def __init__(self, playground, config):
        self.playground, self.config = playground, config

    def add(self, epoch, values):
        _, rmse = values
        self.playground.epoch(self.config, epoch, rmse)

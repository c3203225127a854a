"""A live training plot that works in Jupyter and under nbval.

d2lrec replaces ``d2l.Animator``, which draws SVG (nbval compares SVG, and
matplotlib writes the date into it) and redraws through ``clear_output``
(which nbval does not follow).  `LivePlot` shows one PNG and updates that
same display in place, so a notebook keeps exactly one figure output.
"""
import io

from matplotlib.figure import Figure


class LivePlot:
    """Curves drawn point by point into one PNG display (cf. d2l.Animator).

    Uses ``matplotlib.figure.Figure`` directly, without pyplot, so no
    backend is chosen and no global figure state is touched.
    """

    def __init__(self, xlabel=None, legend=(), xlim=None, ylim=None,
                 fmts=('-', 'm--', 'g-.', 'r:'), figsize=(3.5, 2.5)):
        self.fig = Figure(figsize=figsize, layout='tight')
        self.axes = self.fig.add_subplot()
        self.xlabel, self.legend, self.fmts = xlabel, legend, fmts
        self.xlim, self.ylim = xlim, ylim
        self.X, self.Y = [], [[] for _ in legend]
        self.handle = None

    def add(self, x, ys):
        """Append the point ``(x, ys[k])`` to curve k and redraw."""
        from IPython.display import Image, display
        self.X.append(x)
        for y_list, y in zip(self.Y, ys):
            y_list.append(y)
        self.axes.cla()
        for y_list, fmt in zip(self.Y, self.fmts):
            self.axes.plot(self.X, y_list, fmt)
        self.axes.set_xlabel(self.xlabel)
        self.axes.set_xlim(self.xlim)
        self.axes.set_ylim(self.ylim)
        self.axes.legend(self.legend)
        self.axes.grid()
        buf = io.BytesIO()
        self.fig.savefig(buf, format='png', dpi=100)
        image = Image(buf.getvalue(), format='png')
        if self.handle is None:
            self.handle = display(image, display_id=True)
        else:
            self.handle.update(image)

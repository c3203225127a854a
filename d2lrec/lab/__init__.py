"""The lab: d2lrec beyond D2L §16.2-§16.4's code.

The command line (`cli`), every setting of a run as one value and the
presets (`config`), one run (`experiment`), many side by side
(`sweep`), the tuning (`tune`), blends (`blend`), the model kinds and
their evaluation (`models`, `evaluation`, `loss`), predictions and
recommendations (`recommendations`), model files (`modelfile`), MXNet's
threads (`threads`), and the playground with notebook 03's numbers
(`playground`, `reference`).  They build on the book's helper, the top
of `d2lrec`, which never imports them.
"""

"""``python -m d2lrec``: see `d2lrec.cli`."""
import sys

from d2lrec.cli import main

sys.exit(main())

"""``python -m d2lrec``: see `d2lrec.lab.cli`."""
import sys

try:
    from d2lrec.lab.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line loads
    from d2lrec.lab.cli import interrupted
    sys.exit(interrupted())
sys.exit(main())

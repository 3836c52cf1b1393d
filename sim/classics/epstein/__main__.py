"""``python -m sim.classics.epstein``: the commands of :mod:`sim.classics.epstein.cli`."""

import sys

from sim.classics.epstein.cli import main

sys.exit(main())

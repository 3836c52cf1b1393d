"""``python -m sim.classics.epstein``: the commands of :func:`sim.classics.epstein.main`."""

import sys

from sim.classics.epstein import main

sys.exit(main())

"""``python -m sim`` is the ``blowback`` command."""

import sys

from sim.cli import main

sys.exit(main())

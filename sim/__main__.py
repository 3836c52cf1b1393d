"""``python -m sim`` is the ``blowback`` command."""

import sys

from sim.interfaces.cli import main

sys.exit(main())

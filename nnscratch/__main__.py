"""``python -m nnscratch``: the ``nnscratch`` command line (see ``nnscratch.cli``)."""

import sys

from .cli import main

sys.exit(main())

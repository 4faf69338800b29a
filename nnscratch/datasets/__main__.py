"""Entry point of ``python -m nnscratch.datasets`` (see ``cli``)."""

import sys

from .cli import main

sys.exit(main())

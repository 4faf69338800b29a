"""Entry point of ``python -m nnscratch.datasets`` (see ``cli``)."""

import sys

from ..data.cli import main

sys.exit(main())

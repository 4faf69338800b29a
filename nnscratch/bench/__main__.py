"""``python -m nnscratch.bench``: the benchmark suite's command line."""

import sys

from .cli import main

sys.exit(main())

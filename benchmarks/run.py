"""The benchmark suite, from a checkout: the same as ``python -m nnscratch.bench`` (see README.md here)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's nnscratch, installed or not
from nnscratch.bench import main  # noqa: E402

sys.exit(main())

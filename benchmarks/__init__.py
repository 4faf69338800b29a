"""The nnscratch benchmark suite (not installed with the package); run ``python benchmarks/run.py``."""

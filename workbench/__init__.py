"""M365 BEC Workbench: a terminal workbench for Microsoft 365 business-email-compromise cases."""

import os

# Polars' allocator (jemalloc) reads this once, when Polars is loaded, so it is set before anything imports
# Polars (a setting already in the environment wins). Keeping freed pages 5 s instead of returning them
# after 0.5-1 s (Polars' default) saves page faults: loads ~10 % faster. See bench/README.md.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:5000,muzzy_decay_ms:5000")
# NumPy (imported by the loader) starts a BLAS thread per core that spins for a while, 0.1 CPU-s each process; the
# workbench does no linear algebra.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"

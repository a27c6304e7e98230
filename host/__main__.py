"""`python -m host` (and the bundled decaptcha-host): see host/cli.py."""

import os
import sys

# Before numpy is imported: OpenBLAS otherwise starts a thread per core at import, which
# costs ~50 ms of every cold start (docs/BENCHMARKS.md) and buys nothing for our tiny arrays.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from host.cli import main

if __name__ == "__main__":
    sys.exit(main())

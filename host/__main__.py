"""`python -m host` (and the bundled decaptcha-host): see host/cli.py."""

import sys

from host.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""`python -m f2f`."""

import sys

from f2f.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""`python -m analysis ...` runs the `wps` command."""

import sys

from analysis.cli import main

sys.exit(main())

"""`python -m cli`: the same as `kompetensbot`."""

import sys

from cli.main import main

sys.exit(main())

"""``python -m app.local``: see app/local/cli.py."""

import sys

from app.local.cli import main

sys.exit(main())

"""``python -m lockin_lint`` runs the same CLI as the ``lockin-lint`` script."""

import sys

from .cli import main

sys.exit(main())

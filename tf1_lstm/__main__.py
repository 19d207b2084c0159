"""``python -m tf1_lstm``: the same as the ``tf1-lstm`` command."""

import sys

from .cli import main

sys.exit(main(owns_process=True))

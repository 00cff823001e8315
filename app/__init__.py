"""Hearth: chat with large language models on your own computer."""

import logging

__version__ = "0.1.0"

# Until app.logs.setup() gives it a file, Hearth's logging goes nowhere (never to the terminal).
logging.getLogger("app").addHandler(logging.NullHandler())

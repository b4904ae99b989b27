"""What gunicorn and `flask --app wsgi` load: `app`, built from the environment.

A configuration problem (malformed URL, production on a default secret,
unreachable database) stops the process with one clear line, not a traceback.
"""

import sys

from shared.app import create_app
from shared.config import ConfigError
from shared.startup import check_database

try:
    app = create_app()
    check_database(app)
except ConfigError as exc:
    sys.stderr.write(f"Configuration error: {exc}\n")
    raise SystemExit(2) from None

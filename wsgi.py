"""What gunicorn and `flask --app wsgi` load: `app`, built from the environment.

A configuration problem (malformed URL, production on a default secret,
unreachable database, a production database role that could rewrite
history) stops the process with one clear line, not a traceback.
"""

import sys

from shared.app import create_app
from shared.config import ConfigError
from shared.startup import check_database, check_runtime_role

try:
    app = create_app()
    check_database(app)
    check_runtime_role(app)
except ConfigError as exc:
    sys.stderr.write(f"Configuration error: {exc}\n")
    raise SystemExit(2) from None

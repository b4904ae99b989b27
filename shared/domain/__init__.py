"""Pure rules: no Flask, no SQLAlchemy. Tested without a database."""

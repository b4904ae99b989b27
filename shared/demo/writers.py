"""Bulk writers for generated rows: COPY on PostgreSQL, executemany on SQLite.

Both work on the raw DBAPI connection, bypassing the ORM: at a million
invoices the ORM's per-object bookkeeping, not the database, would be the
bottleneck. Each chunk is one transaction, so an interrupted seed leaves
whole debtors behind, never half of one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class BulkWriter:
    dialect = ""

    def __init__(self, raw_connection):
        self.raw = raw_connection

    def max_id(self, table: str) -> int:
        cursor = self.raw.cursor()
        try:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def max_number(self, table: str, column: str, prefix: str, digits: int) -> int:
        """The highest number already used in `prefix` + `digits` digits (0 if none)."""
        raise NotImplementedError

    def write(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        raise NotImplementedError

    def commit(self, last_ids: dict[str, int]) -> None:
        self.raw.commit()

    def rollback(self) -> None:
        self.raw.rollback()

    def sync_sequences(self, tables: Iterable[str]) -> None:
        """Make each table's id generator continue after its highest id."""

    def analyze(self, tables: Iterable[str]) -> None:
        """Refresh the planner's statistics after a bulk load (PostgreSQL only)."""

    def close(self) -> None:
        self.raw.close()


class PostgresWriter(BulkWriter):
    dialect = "postgresql"

    def __init__(self, raw_connection):
        super().__init__(raw_connection)
        self.conn = raw_connection.driver_connection  # the psycopg 3 connection
        self._sequences: dict[str, str] = {}

    def max_number(self, table, column, prefix, digits):
        with self.conn.cursor() as cursor:
            cursor.execute(
                f"SELECT COALESCE(MAX(CAST(SUBSTRING({column} FROM %s) AS BIGINT)), 0) "
                f"FROM {table} WHERE {column} ~ %s",
                (len(prefix) + 1, f"^{prefix}[0-9]{{{digits}}}$"),
            )
            return int(cursor.fetchone()[0])

    def write(self, table, columns, rows):
        with (
            self.conn.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def _sequence(self, table: str) -> str:
        if table not in self._sequences:
            with self.conn.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
                self._sequences[table] = cursor.fetchone()[0]
        return self._sequences[table]

    def commit(self, last_ids):
        # Rows carry explicit ids, so the serial sequences must move past them or
        # the application's next insert would collide. setval is not transactional
        # and parallel writers commit out of order, so only ever move forwards;
        # sync_sequences settles the exact value at the end.
        with self.conn.cursor() as cursor:
            for table, last_id in last_ids.items():
                sequence = self._sequence(table)
                cursor.execute(
                    f"SELECT setval(%s, GREATEST(%s, (SELECT last_value FROM {sequence})))",
                    (sequence, last_id),
                )
        self.conn.commit()

    def sync_sequences(self, tables):
        with self.conn.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)",
                    (table,),
                )
        self.conn.commit()

    def analyze(self, tables):
        # Without fresh statistics the planner keeps plans made for the tables as
        # they were before the load; a whole-book report can then take hours.
        with self.conn.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
        self.conn.commit()


class SQLiteWriter(BulkWriter):
    dialect = "sqlite"

    def max_number(self, table, column, prefix, digits):
        pattern = prefix + "[0-9]" * digits
        cursor = self.raw.cursor()
        try:
            cursor.execute(
                f"SELECT COALESCE(MAX(CAST(SUBSTR({column}, ?) AS INTEGER)), 0) "
                f"FROM {table} WHERE {column} GLOB ?",
                (len(prefix) + 1, pattern),
            )
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def write(self, table, columns, rows):
        placeholders = ", ".join("?" for _ in columns)
        cursor = self.raw.cursor()
        try:
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows
            )
        finally:
            cursor.close()


def writer_for(engine) -> BulkWriter:
    raw = engine.raw_connection()
    if engine.dialect.name == "postgresql":
        return PostgresWriter(raw)
    if engine.dialect.name == "sqlite":
        return SQLiteWriter(raw)
    raw.close()
    raise RuntimeError(f"demo seeding supports PostgreSQL and SQLite, not {engine.dialect.name}")

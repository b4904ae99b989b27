"""The column layout of an invoice file from the council's finance system
(docs/invoice-import.md): one row per invoice line, a header row naming the columns.

Columns are found by name, in any order, case and surrounding spaces ignored. A
column this layout does not know is refused (a misspelt "unit_prce" would otherwise
be dropped without a word); an optional column may be left out altogether.
"""

from __future__ import annotations

# (name, required): required means the column must be in the header; whether a
# cell may be blank is the row rules' business (shared.domain.invoice_import.rows).
COLUMNS: tuple[tuple[str, bool], ...] = (
    ("customer_id", True),
    ("customer_kind", True),
    ("title", False),
    ("forename", False),
    ("surname", False),
    ("organisation_name", False),
    ("company_number", False),
    ("address_line1", True),
    ("address_line2", False),
    ("town", True),
    ("county", False),
    ("postcode", True),
    ("email", False),
    ("mobile", False),
    ("invoice_number", True),
    ("department_code", True),
    ("income_code", False),
    ("issue_date", True),
    ("due_date", False),
    ("description", True),
    ("purchase_order", False),
    ("line_description", True),
    ("quantity", True),
    ("unit_price", True),
    ("vat_rate", True),
)

NAMES = tuple(name for name, _ in COLUMNS)
REQUIRED = tuple(name for name, required in COLUMNS if required)


class FileError(ValueError):
    """The file as a whole cannot be read (not the format, no header, not UTF-8...)."""


def header_positions(header: tuple, number: int = 1) -> dict[str, int]:
    """Column name -> its position in the row; FileError naming what is wrong."""
    names = [str(cell).strip().lower() if cell is not None else "" for cell in header]
    while names and not names[-1]:
        names.pop()  # trailing empty header cells: Excel's habit, harmless
    positions: dict[str, int] = {}
    unknown, repeated = [], []
    for position, name in enumerate(names):
        if not name:
            unknown.append(f"(column {position + 1} has no name)")
        elif name not in NAMES:
            unknown.append(name)
        elif name in positions:
            repeated.append(name)
        else:
            positions[name] = position
    problems = []
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    if repeated:
        problems.append(f"column{'s' if len(repeated) > 1 else ''} {', '.join(repeated)} twice")
    if problems:
        raise FileError(
            f"Row {number}: the header does not follow the layout in docs/invoice-import.md: "
            f"{'; '.join(problems)}"
        )
    return positions

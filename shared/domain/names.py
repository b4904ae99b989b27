"""How a debtor's name is written on pages, letters and lists."""

from __future__ import annotations

ORGANISATION = "organisation"  # shared.models.DebtorKind.ORGANISATION's value


def display_name(kind, title, forename, surname, organisation_name) -> str:
    """ "Mrs Linda Rogers" for a person, the organisation's name for an organisation."""
    if kind == ORGANISATION:
        return organisation_name or ""
    return " ".join(p for p in (title, forename, surname) if p)

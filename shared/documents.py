"""Documents attached to outgoing email, rendered when the email is sent.

An outbox row names its attachment in its payload, e.g.
``{"attachment": {"document": "invoice", "id": 42}}``, never the bytes: the row stays
small, and the document (an invoice or credit note, immutable once issued) renders
the same whenever the worker sends it. Each kind of document registers a renderer
here; the outbox worker calls `render_attachment` before it opens the SMTP connection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


Renderer = Callable[[int], Attachment]

_RENDERERS: dict[str, Renderer] = {}


class UnknownDocument(ValueError):
    """The payload names a document kind nothing registered, or a malformed spec."""


def register(document: str, renderer: Renderer) -> None:
    """Make `document` attachable: `renderer(id)` returns its Attachment."""
    _RENDERERS[document] = renderer


def render_attachment(spec: Mapping) -> Attachment:
    """The attachment a payload's ``attachment`` entry names."""
    try:
        renderer = _RENDERERS[spec["document"]]
        document_id = int(spec["id"])
    except (KeyError, TypeError, ValueError):
        raise UnknownDocument(f"cannot attach {spec!r}") from None
    return renderer(document_id)

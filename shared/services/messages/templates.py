"""The stored message templates: finding the one to use for a debtor's language.

(Editing with validation and an audit row, the defaults and the preview are added
here by the template work.)
"""

from __future__ import annotations

import sqlalchemy as sa

from shared.extensions import db
from shared.models import Language, MessageTemplate, TemplateChannel


def find_template(key: str, channel: str, language: str = "en") -> MessageTemplate | None:
    """The template `key` for `channel` in `language`, else in English; None if neither."""
    rows = db.session.scalars(
        sa.select(MessageTemplate).where(
            MessageTemplate.key == key,
            MessageTemplate.channel == TemplateChannel(channel),
            MessageTemplate.language.in_({Language(language), Language.ENGLISH}),
        )
    ).all()
    by_language = {row.language: row for row in rows}
    return by_language.get(Language(language)) or by_language.get(Language.ENGLISH)

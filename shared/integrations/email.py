"""Email over SMTP, behind one small client.

Locally and in tests the same code talks to the SMTP capture
(devtools/smtp_capture.py) because SMTP_HOST/SMTP_PORT point at it. Every
failure becomes an EmailError whose `transient` flag tells the outbox job
whether trying again later can help.

An email with an HTML version (a template email: OutboxMessage.html_body) goes as
multipart/alternative: the plain text first, then the HTML inside a small council
layout (`html_document`) with inline styles only, since mail clients drop style
sheets. Readers who block HTML, and screen readers, get the same words either way.
"""

from __future__ import annotations

import html as html_lib
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

# Connect and per-command timeout. smtplib's default is to wait for ever, which
# would hold a worker on a dead server.
SMTP_TIMEOUT_SECONDS = 20
# 530 (authentication required) and 535 (bad credentials) are our settings being
# wrong, not the message: retrying after an operator fixes them delivers it.
CONFIGURATION_CODES = frozenset({530, 534, 535, 538})


# (filename, content type such as "application/pdf", content)
Attachment = tuple[str, str, bytes]


_FONT = "font-family: Arial, Helvetica, sans-serif"
_LAYOUT = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body style="margin: 0; padding: 0; background-color: #f3f2f1;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="background-color: #f3f2f1;">
<tr><td align="center" style="padding: 0;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="max-width: 640px;">
<tr><td style="background-color: #0b0c0c; padding: 16px 24px;">
<p style="margin: 0; {font}; font-size: 24px; line-height: 1.25; font-weight: bold; \
color: #ffffff;">{council}</p>
</td></tr>
<tr><td style="background-color: #ffffff; padding: 24px; {font}; font-size: 19px; \
line-height: 1.5; color: #0b0c0c; border-bottom: 10px solid #1d70b8;">
<h1 style="margin: 0 0 20px 0; {font}; font-size: 27px; line-height: 1.25; \
color: #0b0c0c;">{title}</h1>
{content}
</td></tr>
<tr><td style="padding: 16px 24px; {font}; font-size: 16px; line-height: 1.5; \
color: #505a5f;">
<p style="margin: 0;">{footer}</p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"""
_FOOTER = {
    "en": "This email was sent by {council}.",
    "cy": "Anfonwyd yr e-bost hwn gan {council}.",
}


def html_document(content_html: str, *, title: str, council: str, lang: str = "en") -> str:
    """The HTML part of an email: `content_html` (already HTML-safe, e.g.
    message_templates.as_html) in the council's layout, every style inline, the
    language set for screen readers; the title and council name are escaped here."""
    lang = lang if lang in _FOOTER else "en"
    council_text = html_lib.escape(council or "")
    # Paragraphs from as_html carry no style: give them the body text's spacing.
    content = content_html.replace("<p>", '<p style="margin: 0 0 20px 0;">')
    return _LAYOUT.replace("{font}", _FONT).format(
        lang=lang,
        title=html_lib.escape(title),
        council=council_text,
        content=content,
        footer=_FOOTER[lang].format(council=council_text),
    )


class EmailError(Exception):
    """The SMTP server refused the message or could not be reached."""

    def __init__(self, message: str, *, transient: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


def _is_transient(code: int) -> bool:
    # 4xx replies mean "try again later" in SMTP; 5xx are final for this message.
    return 400 <= code < 500 or code in CONFIGURATION_CODES


class EmailClient:
    """Sends one plain-text email per call over its own SMTP connection."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        from_address: str,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = SMTP_TIMEOUT_SECONDS,
        council_name: str = "",
    ) -> None:
        if not from_address:
            raise ValueError("a From address is required")
        self.host = host
        self.port = int(port)
        self.from_address = from_address
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self.council_name = council_name
        # Message-IDs in the sender's own domain, not this machine's host name.
        self.domain = parseaddr(from_address)[1].rpartition("@")[2] or None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **kwargs: Any) -> EmailClient:
        """Build from app config (SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD,
        SMTP_STARTTLS, MAIL_FROM; COUNCIL_NAME heads HTML emails)."""
        return cls(
            str(config["SMTP_HOST"]),
            int(config["SMTP_PORT"]),
            from_address=str(config["MAIL_FROM"]),
            username=str(config.get("SMTP_USERNAME") or ""),
            password=str(config.get("SMTP_PASSWORD") or ""),
            starttls=bool(config.get("SMTP_STARTTLS")),
            council_name=str(config.get("COUNCIL_NAME") or ""),
            **kwargs,
        )

    def build(
        self,
        to: str,
        subject: str,
        body: str,
        attachments: Sequence[Attachment] = (),
        *,
        html: str | None = None,
        lang: str = "en",
    ) -> EmailMessage:
        """The message as it will be sent (raises EmailError for an unusable address or
        subject): plain text, or multipart/alternative when `html` (HTML-safe content,
        laid out by html_document) is given, then any attachments."""
        if "@" not in parseaddr(to)[1]:
            raise EmailError(f"not an email address: {to!r}", transient=False)
        message = EmailMessage()
        try:
            message["From"] = self.from_address
            message["To"] = to
            message["Subject"] = subject
        except (ValueError, IndexError) as exc:  # e.g. a line break in a header
            raise EmailError(f"cannot build the message: {exc}", transient=False) from None
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.domain)
        message.set_content(body)
        if html:
            message.add_alternative(
                html_document(html, title=subject, council=self.council_name, lang=lang),
                subtype="html",
            )
        for filename, content_type, content in attachments:
            maintype, _, subtype = content_type.partition("/")
            message.add_attachment(
                content,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                filename=filename,
            )
        return message

    def send(
        self,
        to: str,
        subject: str,
        body: str,
        attachments: Sequence[Attachment] = (),
        *,
        html: str | None = None,
        lang: str = "en",
    ) -> str:
        """Send an email (plain text, with an HTML alternative when `html` is given),
        with any attachments (filename, content type, bytes); returns its Message-ID
        header (with the angle brackets)."""
        message = self.build(to, subject, body, attachments, html=html, lang=lang)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            raise EmailError(
                f"recipient refused: {_reply(code, text)}", transient=_is_transient(code), code=code
            ) from None
        except smtplib.SMTPConnectError as exc:
            # The server answered the connection with a refusal (e.g. 421/554 busy).
            raise EmailError(
                f"SMTP server refused the connection: {_reply(exc.smtp_code, exc.smtp_error)}",
                transient=True,
                code=exc.smtp_code,
            ) from None
        except smtplib.SMTPResponseException as exc:
            # Sender refused, data refused, authentication failed, ...
            raise EmailError(
                f"{type(exc).__name__}: {_reply(exc.smtp_code, exc.smtp_error)}",
                transient=_is_transient(exc.smtp_code),
                code=exc.smtp_code,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            # STARTTLS or AUTH asked of a server that does not offer it: a setting to fix.
            raise EmailError(f"SMTP server does not support: {exc}", transient=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            # Refused connection, timeout, TLS failure, server hung up.
            raise EmailError(
                f"SMTP server {self.host}:{self.port} unreachable: {type(exc).__name__}: {exc}",
                transient=True,
            ) from None
        return str(message["Message-ID"])


def app_email_client(app) -> EmailClient:
    """The app's email client: one installed in app.extensions["email_client"], else
    SMTP from config."""
    client = app.extensions.get("email_client")
    return client if client is not None else EmailClient.from_config(app.config)

"""Email over SMTP, behind one small client.

Locally and in tests the same code talks to the SMTP capture
(devtools/smtp_capture.py) because SMTP_HOST/SMTP_PORT point at it. Every
failure becomes an EmailError whose `transient` flag tells the outbox job
whether trying again later can help.
"""

from __future__ import annotations

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
        # Message-IDs in the sender's own domain, not this machine's host name.
        self.domain = parseaddr(from_address)[1].rpartition("@")[2] or None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **kwargs: Any) -> EmailClient:
        """Build from app config (SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD,
        SMTP_STARTTLS, MAIL_FROM)."""
        return cls(
            str(config["SMTP_HOST"]),
            int(config["SMTP_PORT"]),
            from_address=str(config["MAIL_FROM"]),
            username=str(config.get("SMTP_USERNAME") or ""),
            password=str(config.get("SMTP_PASSWORD") or ""),
            starttls=bool(config.get("SMTP_STARTTLS")),
            **kwargs,
        )

    def build(
        self, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()
    ) -> EmailMessage:
        """The message as it will be sent (raises EmailError for an unusable address or subject)."""
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
        for filename, content_type, content in attachments:
            maintype, _, subtype = content_type.partition("/")
            message.add_attachment(
                content,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                filename=filename,
            )
        return message

    def send(self, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()) -> str:
        """Send a plain-text email, with any attachments (filename, content type, bytes);
        returns its Message-ID header (with the angle brackets)."""
        message = self.build(to, subject, body, attachments)
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

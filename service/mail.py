"""E-mail to staff (usage alerts, silent meeting-room devices), where SMTP is configured.

A mail that cannot be sent is logged and reported as not sent; it never fails the work that
raised the alert (a stored transcript, an upkeep round).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage

from service.settings import ServiceSettings

log = logging.getLogger(__name__)


def send_mail(settings: ServiceSettings, to: Sequence[str], subject: str, body: str, what: str) -> bool:
    """Send one plain-text mail; True when the server took it. ``what`` names it in the log
    (never the addresses or the body, which may name people)."""
    if not settings.smtp_host or not to:
        return False
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(to)
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException):
        log.exception("could not e-mail %s", what)
        return False
    return True

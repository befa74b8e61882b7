"""SMTP for the notification outbox (fieldapp/notifications/service.py builds the message,
e.g. the service report with its PDF, and calls `send` when the delivery is due): sent over
SMTP when MAIL_SERVER is configured (MAIL_PORT, MAIL_USE_TLS, MAIL_USERNAME/PASSWORD), else
only logged. Retries and the record of what was sent are the outbox's."""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

log = logging.getLogger("fieldapp.mailer")


def report_message(sender: str, to: str, subject: str, body: str, pdf: bytes,
                   filename: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return message


def send(message: EmailMessage, config: dict) -> str:
    """'sent' over SMTP when MAIL_SERVER is set, else 'logged'. Raises on SMTP failure."""
    server = config.get("MAIL_SERVER")
    if not server:
        log.info("mail not configured (MAIL_SERVER unset); would send %r to %s",
                 message["Subject"], message["To"])
        return "logged"
    port = int(config.get("MAIL_PORT") or 25)
    with smtplib.SMTP(server, port, timeout=20) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)
    log.info("sent %r to %s", message["Subject"], message["To"])
    return "sent"

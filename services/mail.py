"""E-mail to staff through the SMTP server the configuration names (Flask-Mailman).

Nothing here may undo or hold up the work it reports: callers send after their use case has
committed, a failure is logged and reported as False, and with no MAIL_SERVER configured
nothing is sent at all (logged at info), so the portal works the same without e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, current_app
from flask_mailman import EmailMessage, Mail

mail = Mail()

DEFAULTS = {
    "MAIL_SERVER": "",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": None,
    # Seconds to wait for the server: a dead one must not keep a staff request waiting.
    "MAIL_TIMEOUT": 10,
    # Flask-Mailman's own default under TESTING is an in-memory outbox; we always speak SMTP.
    "MAIL_BACKEND": "smtp",
}


def init_app(app: Flask) -> None:
    """Attach Flask-Mailman; settings not given in the configuration get DEFAULTS."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    mail.init_app(app)


def configured() -> bool:
    """True when an SMTP server is configured."""
    return bool(current_app.config.get("MAIL_SERVER"))


def send(recipients: Iterable[str], subject: str, body: str) -> bool:
    """Send one plain-text message to `recipients` (empty addresses are left out). Returns
    True when the server accepted it; False, after logging why, when there is no server,
    no recipient, or the server failed."""
    to = [address for address in recipients if address]
    log = current_app.logger
    if not configured():
        log.info("no MAIL_SERVER configured: e-mail %r to %s not sent", subject, to)
        return False
    if not to:
        log.info("e-mail %r has no recipient with an address: not sent", subject)
        return False
    config = current_app.config
    connection = mail.get_connection(
        host=config["MAIL_SERVER"],
        port=int(config["MAIL_PORT"]),
        username=config["MAIL_USERNAME"],
        password=config["MAIL_PASSWORD"],
        use_tls=bool(config["MAIL_USE_TLS"]),
        use_ssl=bool(config["MAIL_USE_SSL"]),
        timeout=config["MAIL_TIMEOUT"],
    )
    sender = config["MAIL_DEFAULT_SENDER"] or config["MAIL_USERNAME"] or "tthc@localhost"
    message = EmailMessage(subject, body, sender, to, connection=connection)
    try:
        message.send()
    except Exception:  # any failure of the server or the network: logged, never raised
        log.exception("e-mail %r to %s could not be sent", subject, to)
        return False
    return True

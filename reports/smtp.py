"""Sending composed messages through the institution's SMTP server (``notifications.smtp``).

The standard library's ``smtplib`` speaks to the server: STARTTLS on a plain connection (port 587),
TLS from the first byte (465), or no encryption for a relay on the same network. The password is
read from its variable or file only when the session opens.

A failure is a ``MailDeliveryError`` whose Spanish message names what went wrong in the officer's
words, never the server's address, the user, the password or the variable that holds it: it is
logged and shown by the run, and the messages it stopped are sent by the next run.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from transparencia.domain import MailSecurity
from transparencia.errors import ConfigError, TransientError
from transparencia.sources.config import SmtpSettings

_WHERE = "notifications.smtp"


class MailDeliveryError(TransientError):
    """The SMTP server did not take the messages now; the next run sends them."""


@contextmanager
def smtp_session(settings: SmtpSettings) -> Iterator[SmtpSession]:
    """An open, authenticated session with the server, closed on leaving."""
    try:
        password = settings.resolve_password()
    except ConfigError:
        raise MailDeliveryError(f"no se pudo leer la contraseña del servidor de correo (revise 'password_env' "
                                f"o 'password_file' en {_WHERE})") from None
    with _translated():
        client = _connect(settings)
    try:
        with _translated():
            if settings.user and password is not None:
                client.login(settings.user, password)
        yield SmtpSession(client)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


class SmtpSession:
    def __init__(self, client: smtplib.SMTP) -> None:
        self._client = client

    def send(self, message: EmailMessage) -> list[str]:
        """Send ``message``; the recipients the server refused (the others received it)."""
        with _translated():
            refused = self._client.send_message(message)
        return sorted(refused)


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    port, timeout = settings.effective_port, settings.timeout
    if settings.security is MailSecurity.TLS:
        return smtplib.SMTP_SSL(settings.host, port, timeout=timeout, context=ssl.create_default_context())
    client = smtplib.SMTP(settings.host, port, timeout=timeout)
    if settings.security is MailSecurity.STARTTLS:
        client.starttls(context=ssl.create_default_context())
    return client


@contextmanager
def _translated() -> Iterator[None]:
    """Any failure of the SMTP exchange as a MailDeliveryError in Spanish, without the server's words
    (they may name the host or the user)."""
    try:
        yield
    except (smtplib.SMTPException, OSError) as exc:
        raise MailDeliveryError(_reason(exc)) from None


def _reason(exc: BaseException) -> str:
    """What went wrong, in the officer's words; the first matching kind wins (subclasses first)."""
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"el servidor de correo respondió con un error (código {exc.smtp_code})"
    return "no se pudo conectar con el servidor de correo"


_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (smtplib.SMTPAuthenticationError, "el servidor de correo no aceptó el usuario o la contraseña"),
    (smtplib.SMTPNotSupportedError, f"el servidor de correo no ofrece lo que pide la configuración (STARTTLS o "
                                    f"inicio de sesión): revise 'security' en {_WHERE}"),
    (smtplib.SMTPSenderRefused, "el servidor de correo rechazó el remitente (notifications.from)"),
    (smtplib.SMTPRecipientsRefused, "el servidor de correo rechazó a todos los destinatarios"),
    (smtplib.SMTPServerDisconnected, "el servidor de correo cerró la conexión"),
    (ssl.SSLError, f"no se pudo establecer la conexión cifrada con el servidor de correo: revise 'security' y "
                   f"'port' en {_WHERE}"),
    (ConnectionRefusedError, "el servidor de correo rechazó la conexión"),
    (TimeoutError, "el servidor de correo no respondió a tiempo"),
    (socket.gaierror, f"no se encontró el servidor de correo: revise 'host' en {_WHERE}"),
)

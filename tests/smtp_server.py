"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it is sent, for the e-mail tests.

``smtp_server`` starts one per test on a free port; ``smtp_server.messages`` are the delivered
messages parsed back (``Delivered``: the envelope's recipients and the ``EmailMessage``). With
``smtp_server.require_login(user, password)`` the server asks for that login (refusing any other),
as an institution's submission server does. ``free_port()`` gives a port nothing listens on, for a
server that refuses the connection.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Delivered:
    recipients: list[str]
    message: EmailMessage
    raw: bytes  # as it travelled


class SmtpServer:
    """The server, what it received, and the login it asks for (none by default)."""

    def __init__(self) -> None:
        self.messages: list[Delivered] = []
        self.login: tuple[str, str] | None = None
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, authenticator=self._authenticate,
                                      auth_require_tls=False, auth_required=False)

    def require_login(self, user: str, password: str) -> None:
        self.login = (user, password)

    def settings(self, **changes: object) -> dict[str, object]:
        """The configuration's ``notifications.smtp`` section for this server."""
        return {"host": "127.0.0.1", "port": self.port, "security": "none", **changes}

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.login is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(Delivered(list(envelope.rcpt_tos), message, envelope.original_content))
        return "250 OK"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        accepted = (isinstance(auth_data, LoginPassword) and self.login is not None
                    and (auth_data.login.decode(), auth_data.password.decode()) == self.login)
        return AuthResult(success=accepted, handled=False)  # the server answers 535 to a refused login

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()

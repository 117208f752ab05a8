"""Error types shared by every stage.

Every error carries a message for the officer, in Spanish, that says what was wrong and where.
Errors are either transient (retrying may help: timeouts, 5xx, a dropped connection) or terminal
(retrying will not help: a bad file, a wrong token, a missing organization), so that retry
policies key on the class, never on the message text.
"""


class TransparenciaError(Exception):
    """Base class; ``str(error)`` is the Spanish message shown to the user.

    ``public`` is the summary that may be published (in the compliance report) when the message
    names internal details (a host, a port, a database user, a local path); the full message
    stays on the officer's screen and in the local run ledger."""

    def __init__(self, message: str, public: str | None = None):
        super().__init__(message)
        self.message = message
        self.public = public


class TerminalError(TransparenciaError):
    """Retrying will not help: stop this unit of work and say why."""


class TransientError(TransparenciaError):
    """A passing failure (network, server overload): the same call may succeed later."""


class ConfigError(TerminalError):
    """A configuration or usage error (unknown item, wrong key in a file). CLI exit code 2."""


class InputError(TerminalError):
    """An input that cannot be used at all (missing, corrupt, unreadable). CLI exit code 2."""


class RunInterrupted(Exception):
    """A run stopped by a signal (Ctrl+C is SIGINT, a service manager sends SIGTERM). Not an error of
    the data or the configuration: the CLI exits 128 + the signal's number (130, 143), as shells do."""

    def __init__(self, message: str, signal_number: int):
        super().__init__(message)
        self.message = message
        self.exit_code = 128 + signal_number

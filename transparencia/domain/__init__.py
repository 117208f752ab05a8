"""The domain kernel: the ideas every layer shares, each defined once.

``Period`` (the reporting month and the Spanish month names), the release schedule and the
deadline it sets (``ReleaseSchedule``, ``Deadline``), the cédula grammar, the
vocabularies (frequency, item kind, privacy policy, item status, target, output format) and the file
helpers (atomic writes, one lock, sha256, YAML) and the data folder's layout (``Workspace``). The
kernel imports nothing from the stages, so any layer may import it.
"""

from transparencia.domain import cedula, ruc
from transparencia.domain.files import (
    atomic_copies,
    atomic_write,
    file_lock,
    load_yaml,
    sha256_bytes,
    sha256_file,
    write_if_changed,
)
from transparencia.domain.period import MONTH_NAMES, YEARMONTH_PATTERN, Period
from transparencia.domain.schedule import Deadline, ReleaseSchedule
from transparencia.domain.vocab import (
    Frequency,
    ItemKind,
    ItemStatus,
    MailKind,
    MailSecurity,
    OutputFormat,
    PrivacyPolicy,
    ReviewDecision,
    Severity,
    Target,
)
from transparencia.domain.workspace import Workspace

__all__ = [
    "MONTH_NAMES", "YEARMONTH_PATTERN", "Deadline", "Frequency", "ItemKind", "ItemStatus", "MailKind", "MailSecurity",
    "OutputFormat", "Period", "PrivacyPolicy", "ReleaseSchedule", "ReviewDecision", "Severity", "Target", "Workspace",
    "atomic_copies", "atomic_write", "cedula", "file_lock", "load_yaml", "ruc", "sha256_bytes", "sha256_file",
    "write_if_changed",
]

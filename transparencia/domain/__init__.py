"""The domain kernel: the ideas every layer shares, each defined once.

``Period`` (the reporting month and the Spanish month names), the cédula grammar, the
vocabularies (frequency, item kind, privacy policy, item status, target, output format) and the file
helpers (atomic writes, sha256, YAML). The kernel imports nothing from the stages, so any layer may
import it.
"""

from transparencia.domain import cedula, ruc
from transparencia.domain.files import atomic_copy, atomic_write, load_yaml, sha256_bytes, sha256_file
from transparencia.domain.period import MONTH_NAMES, YEARMONTH_PATTERN, Period
from transparencia.domain.vocab import Frequency, ItemKind, ItemStatus, OutputFormat, PrivacyPolicy, Severity, Target

__all__ = [
    "MONTH_NAMES", "YEARMONTH_PATTERN", "Frequency", "ItemKind", "ItemStatus", "OutputFormat", "Period",
    "PrivacyPolicy", "Severity", "Target", "atomic_copy", "atomic_write", "cedula", "load_yaml", "ruc",
    "sha256_bytes", "sha256_file",
]

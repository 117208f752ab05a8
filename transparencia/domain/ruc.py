"""The Panamanian RUC (Registro Único de Contribuyente), built on the cédula's grammar.

A natural person's RUC is the cédula (``8-123-4567``), a legal person's the Registro Público
numbers (``2588017-1-831938``), each with an optional check digit (DV): ``DV 12``, ``D.V. 12``,
``-12``. The grammar is lenient on purpose (a RUC of unusual shape is a warning, never an error):
any number stands for the prefix, ``NT`` (non-taxpayer) joins the cédula's lettered prefixes, and
the cédula's AV/PI suffix may follow. The pattern is RE2-compatible, as the validation suite needs.
"""

from __future__ import annotations

from transparencia.domain import cedula

NON_TAXPAYER = "NT"
PREFIX = rf"(?:{'|'.join((*cedula.LETTERED, NON_TAXPAYER))}|\d{{1,9}}){cedula.PROVINCE_SUFFIX}?"
NUMBERS = r"(?:-\d{1,9}){2,3}"
CHECK_DIGIT = r"(?:\s*(?:D\.?\s?V\.?)?\s*:?\s*\d{1,2})?"
PATTERN = rf"^{PREFIX}{NUMBERS}{CHECK_DIGIT}$"

"""The reporting month: parsed once at the edge (CLI, flow parameters), passed as an object, and
turned into text only where text is shown or stored.

This is the one home of the ``AAAA-MM`` pattern and of the Spanish month names.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from transparencia.errors import ConfigError

YEARMONTH_PATTERN = r"^\d{4}-(?:0[1-9]|1[0-2])$"  # a ``yearmonth`` value, AAAA-MM (every ``periodo``)
MONTH_NAMES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)
# How a month is abbreviated in Spanish (chart axes, short labels: "oct. 2026"); RAE's "sept.".
MONTH_ABBREVIATIONS = ("ene.", "feb.", "mar.", "abr.", "may.", "jun.", "jul.", "ago.", "sept.", "oct.", "nov.", "dic.")
# A month written in full ("setiembre" is how much of Latin America spells September), to its number.
FULL_MONTH_NUMBERS = {name: number for number, name in enumerate(MONTH_NAMES, start=1)} | {"setiembre": 9}
# Months as an Excel set to English writes them in a date ("15-Jan-2025", "January 5, 2025"): none
# of them means another month in Spanish.
ENGLISH_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                       "october", "november", "december")
# Every way a month is written in a date ("15-ene-2025", "sept. 10", "15-Jan-2025"), to its number.
MONTH_NUMBERS = {
    **{name: number for number, name in enumerate(ENGLISH_MONTH_NAMES, start=1)},
    **{name[:3]: number for number, name in enumerate(ENGLISH_MONTH_NAMES, start=1)},
    **FULL_MONTH_NUMBERS,
    **{name[:3]: number for number, name in enumerate(MONTH_NAMES, start=1)},
    "sept": 9, "set": 9,
}
_YEARMONTH = re.compile(YEARMONTH_PATTERN)
# A month named in a title or a name, with its year when one follows ("febrero 2025", "FEB-2025"). In
# running text only months written in full count: "mar" or "set" are ordinary words there.
_YEAR_AFTER = r"(?![a-záéíóúñ])(?:\W+(?:de\W+|del\W+)?(\d{4}))?"
_NAMED_MONTH = re.compile(r"(?<![a-záéíóúñ])(" + "|".join(FULL_MONTH_NUMBERS) + ")" + _YEAR_AFTER, re.IGNORECASE)
_ABBREVIATED_MONTH = re.compile(r"(?<![a-záéíóúñ])(" + "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
                                + r")\.?" + _YEAR_AFTER, re.IGNORECASE)
_NUMBERED_MONTH = re.compile(r"(?<!\d)(20\d{2})[-_.]?(0[1-9]|1[0-2])(?!\d)(?![-/.]\d)")
_DAY_BEFORE = re.compile(r"\d{1,2}\W+(?:de\W+)?$", re.IGNORECASE)  # "5 de febrero": a date, not a month
_ORDINARY_WORDS = {"mar", "set"}  # in a label too ("Set de datos"): a month only with its year ("MAR 2025")


def months_named(text: str, default_year: int, abbreviated: bool = False) -> set[str]:
    """The months a text names: 'febrero 2025', 'FEBRERO', '2025-02', '202502' (AAAA-MM each);
    full dates ('5 de febrero de 2025', '2025-02-05') name a day, not a month, and are skipped.
    ``abbreviated`` counts 'FEB 2025', 'Ene', 'Sept.' too, for short labels such as sheet names."""
    found = set()
    for match in (_ABBREVIATED_MONTH if abbreviated else _NAMED_MONTH).finditer(text):
        if _DAY_BEFORE.search(text[:match.start()]):
            continue
        if match.group(1).lower() in _ORDINARY_WORDS and not match.group(2):
            continue
        year = int(match.group(2)) if match.group(2) else default_year
        found.add(f"{year:04d}-{MONTH_NUMBERS[match.group(1).lower()]:02d}")
    for match in _NUMBERED_MONTH.finditer(text):
        found.add(f"{match.group(1)}-{match.group(2)}")
    return found


@dataclass(frozen=True, order=True)
class Period:
    """A reporting month. Queries read the half-open interval ``[start, end)``: ``end`` is the
    first day of the next month, so a timestamp late on the last day is never lost."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ConfigError(f"Mes inválido {self.month}: se esperaba un número de 1 a 12")

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """``'2025-01'`` -> ``Period(2025, 1)``; a Period is returned as is."""
        if isinstance(text, Period):
            return text
        match = _YEARMONTH.match(str(text).strip())
        if not match:
            raise ConfigError(f"Período inválido '{text}': se esperaba AAAA-MM (p. ej. 2025-01)")
        year, month = match.group(0).split("-")
        return cls(int(year), int(month))

    @classmethod
    def is_valid(cls, text: object) -> bool:
        """Whether ``text`` is an ``AAAA-MM`` month (without raising)."""
        return isinstance(text, str) and bool(_YEARMONTH.match(text))

    @classmethod
    def of(cls, day: dt.date) -> Period:
        """The month ``day`` falls in."""
        return cls(day.year, day.month)

    @classmethod
    def previous(cls, today: dt.date | None = None) -> Period:
        """The month before ``today``: what the scheduled run releases."""
        return cls.of(today or dt.date.today()).shift(-1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def require_ended(self, today: dt.date | None = None) -> Period:
        """This month, once it has ended: a month still running (or to come) cannot be published,
        its sources are not complete yet."""
        if (today or dt.date.today()) < self.end:
            raise ConfigError(f"El período {self} aún no ha terminado: un mes se publica cuando termina, "
                              f"a partir del {self.end:%d/%m/%Y}")
        return self

    def shift(self, months: int) -> Period:
        """The month ``months`` later (earlier when negative)."""
        index = self.year * 12 + self.month - 1 + months
        return Period(index // 12, index % 12 + 1)

    def months_since(self, earlier: dt.date | Period) -> int:
        """Whole calendar months from ``earlier``'s month to this one."""
        return (self.year - earlier.year) * 12 + (self.month - earlier.month)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        """First day of the next month (exclusive bound)."""
        return self.start + dt.timedelta(days=calendar.monthrange(self.year, self.month)[1])

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def month_name(self) -> str:
        """``'enero'``."""
        return MONTH_NAMES[self.month - 1]

    @property
    def short_label_es(self) -> str:
        """``'oct. 2026'``: the month where room is short (a chart's axis)."""
        return f"{MONTH_ABBREVIATIONS[self.month - 1]} {self.year}"

    @property
    def label_es(self) -> str:
        """``'enero de 2025'``: how the period reads in Spanish texts."""
        return f"{self.month_name} de {self.year}"

    def placeholders(self) -> dict[str, str]:
        """The values of ``{period}``, ``{year}`` and ``{month}`` in configured paths."""
        return {"period": str(self), "year": f"{self.year:04d}", "month": f"{self.month:02d}"}


def fill_placeholders(template: str, period: Period, where: str) -> str:
    """Replace ``{period}``, ``{year}`` and ``{month}``; any other ``{name}`` is a configuration error."""
    values = period.placeholders()

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ConfigError(f"{where}: marcador desconocido '{{{name}}}'; use {{period}}, {{year}} o {{month}}")
        return values[name]

    return re.sub(r"\{([^{}]*)\}", replace, template)

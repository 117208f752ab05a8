"""ANTAI's scoring of the monthly transparency monitoring: a percentage of the points met and its band.

ANTAI weighs the 24 points equally and groups institutions in four bands (January 2018 monitoring:
100 %; 96–67 % "dentro del rango, deben mejorar"; 63–4 % "deficiente"; 0 %). With 24 points the bands
are exactly 24, 16–23, 1–15 and 0 points met, and no score falls between ANTAI's printed ranges.

With items marked "no aplica" one can (15 of 23 is 65 %), so the tool decides, here and only here:
the band is the fraction's (two thirds or more, but not all, is "debe mejorar": ANTAI's 16 of 24;
below two thirds, "deficiente"), and the bands are stated as contiguous ranges (1 %–66 %,
67 %–99 %) that hold every score. The printed percentage, rounded half up as ANTAI prints it, is
kept within its band's range, so it never contradicts the label (a score just under two thirds
never prints 67 %; one point short of all never prints 100 %). With 24 points nothing changes.
The institution's compliance report and the national monitor both use this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction


class AntaiBand(Enum):
    """A band of ANTAI's monitoring, with the Spanish label ANTAI's results use."""

    FULL = "cumple"
    IMPROVE = "debe-mejorar"
    DEFICIENT = "deficiente"
    NONE = "sin-informacion"

    @property
    def label(self) -> str:
        return _LABELS[self]


# The whole percentages each band holds: contiguous, so a score between ANTAI's printed ranges has a home.
RANGES = {AntaiBand.FULL: (100, 100), AntaiBand.IMPROVE: (67, 99), AntaiBand.DEFICIENT: (1, 66),
          AntaiBand.NONE: (0, 0)}
_LABELS = {
    AntaiBand.FULL: "Cumple con el 100 %",
    AntaiBand.IMPROVE: "Dentro del rango, debe mejorar ({} %–{} %)".format(*RANGES[AntaiBand.IMPROVE]),
    AntaiBand.DEFICIENT: "Deficiente ({} %–{} %)".format(*RANGES[AntaiBand.DEFICIENT]),
    AntaiBand.NONE: "Sin información de transparencia (0 %)",
}


@dataclass(frozen=True)
class AntaiScore:
    """Points met out of the applicable points, as ANTAI reports them."""

    met: int
    applicable: int

    def __post_init__(self) -> None:
        if not 0 <= self.met <= self.applicable:
            raise ValueError(f"points met ({self.met}) must be between 0 and the applicable points ({self.applicable})")

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.met, self.applicable) if self.applicable else Fraction(0)

    @property
    def percentage(self) -> int:
        """Whole percentage, rounded half up as ANTAI prints it (23 of 24 is 96 %, 16 of 24 is 67 %),
        within its band's range (15 of 23 is 65 %, deficiente)."""
        low, high = RANGES[self.band]
        return min(max(int(self.fraction * 100 + Fraction(1, 2)), low), high)

    @property
    def band(self) -> AntaiBand:
        if self.applicable and self.met == self.applicable:
            return AntaiBand.FULL
        if self.fraction >= Fraction(2, 3):
            return AntaiBand.IMPROVE
        if self.met > 0:
            return AntaiBand.DEFICIENT
        return AntaiBand.NONE

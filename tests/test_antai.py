"""ANTAI's bands reproduce its published figures (24 equal points, January 2018 bands)."""

import pytest

from transparencia.reports.antai import AntaiBand, AntaiScore


@pytest.mark.parametrize(
    ("met", "percentage", "band"),
    [
        (24, 100, AntaiBand.FULL),
        (23, 96, AntaiBand.IMPROVE),
        (20, 83, AntaiBand.IMPROVE),  # the Asamblea Nacional's 83 % with four items missing
        (16, 67, AntaiBand.IMPROVE),
        (15, 63, AntaiBand.DEFICIENT),
        (1, 4, AntaiBand.DEFICIENT),
        (0, 0, AntaiBand.NONE),
    ],
)
def test_bands_of_24_points_match_antai(met, percentage, band):
    score = AntaiScore(met, 24)
    assert (score.percentage, score.band) == (percentage, band)


def test_items_that_do_not_apply_leave_the_denominator():
    assert AntaiScore(23, 23).band is AntaiBand.FULL
    assert AntaiScore(15, 23).band is AntaiBand.DEFICIENT  # 65 %: below two thirds
    assert AntaiScore(16, 23).percentage == 70


def test_more_points_than_apply_is_refused():
    with pytest.raises(ValueError):
        AntaiScore(25, 24)


def test_labels_are_spanish():
    assert AntaiBand.IMPROVE.label.startswith("Dentro del rango")

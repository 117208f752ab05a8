"""ANTAI's bands reproduce its published figures (24 equal points, January 2018 bands)."""

import itertools

import pytest

from transparencia.reports.antai import RANGES, AntaiBand, AntaiScore


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


@pytest.mark.parametrize(("met", "applicable"), [(15, 23), (11, 17), (15, 24), (16, 24), (23, 24), (1, 24),
                                                 (133, 200), (199, 200), (1, 300), (0, 24), (24, 24)])
def test_every_printed_percentage_lies_in_its_band_label(met, applicable):
    """15 of 23 printed "65 %" labelled "Deficiente (4 %–63 %)": the bands are contiguous ranges that
    hold every score, and the percentage never leaves its band's range."""
    score = AntaiScore(met, applicable)
    low, high = RANGES[score.band]
    assert low <= score.percentage <= high
    if low != high:
        assert f"({low} %–{high} %)" in score.band.label


def test_a_score_between_antais_printed_ranges_is_deficient_and_says_so():
    score = AntaiScore(15, 23)
    assert (score.percentage, score.band.label) == (65, "Deficiente (1 %–66 %)")
    assert AntaiScore(133, 200).percentage == 66  # just under two thirds never prints 67 %
    ranges = sorted(RANGES.values())
    assert all(high + 1 == next_low for (_, high), (next_low, _) in itertools.pairwise(ranges))

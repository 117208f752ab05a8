"""The Panamanian cédula: one grammar, with its parse, validate, normalise and mask operations.

A cédula is a prefix (a province 1–13, optionally followed by AV or PI; or E, N, PE), a *tomo*
and an *asiento*: ``8-123-4567``, ``PE-12-345``, ``3AV-1-22``.

The leading-zeros rule, decided here once: tomo and asiento are numbers, so their canonical
form has no leading zeros (``08-0123-04567`` is ``8-123-4567``). Normalising strips them (and
any separators people type: spaces, dots); validation accepts only the canonical form, so a
group of only zeros (``8-0-45``) is never a cédula. Masking and the free-text scrubber are
lenient on purpose: anything cédula-shaped is masked, whether or not it is valid.

The patterns are RE2-compatible: normalising runs them over whole columns in pyarrow.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

# The prefix's pieces: a lettered prefix (foreigner, naturalised, passport-era), or a province
# (1–13) that AV (antes de la vigencia) or PI (población indígena) may follow.
LETTERED = ("PE", "E", "N")
PROVINCE = r"(?:1[0-3]|[1-9])"
PROVINCE_SUFFIX = "(?:AV|PI)"
# The prefix as written canonically, and as people type it ("08" for province 8).
PREFIX = rf"(?:{'|'.join(LETTERED)}|{PROVINCE}{PROVINCE_SUFFIX}?)"
TYPED_PREFIX = rf"(?:{'|'.join(LETTERED)}|0?{PROVINCE}{PROVINCE_SUFFIX}?)"
TOMO_DIGITS, ASIENTO_DIGITS = 4, 6
CANONICAL_PATTERN = rf"^{PREFIX}-[1-9]\d{{0,{TOMO_DIGITS - 1}}}-[1-9]\d{{0,{ASIENTO_DIGITS - 1}}}$"
# A cédula inside free text (messages, examples): prefix, tomo and asiento, leading zeros allowed.
IN_TEXT_PATTERN = rf"\b({PREFIX})-(0*\d{{1,{TOMO_DIGITS}}})-(0*\d{{1,{ASIENTO_DIGITS}}})\b"
MASK = "***"
# Dashes pasted from Word or e-mail ("8–456–7890", "4—567—890"; U+2212 minus, en and em dashes...),
# read as the hyphen they stand for. Invisible characters pasted along are removed before any
# field is typed (``sources.normalise``), so they need no place in the grammar.
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"


def typed_pattern(whitespace: str = r"\s") -> str:
    """A cédula as typed: the three groups (prefix, tomo, asiento; zeros stripped from the last two)
    separated by ``-`` (or a pasted dash, ``DASHES``), ``.`` or ``whitespace`` (a character class).
    The groups are named (``prefix``, ``tomo``, ``asiento``), as Arrow's ``extract_regex`` needs."""
    separator = f"{whitespace}*(?:[-.{DASHES}]|{whitespace}){whitespace}*"
    return (rf"^(?P<prefix>{TYPED_PREFIX}){separator}0*(?P<tomo>\d{{1,{TOMO_DIGITS}}}){separator}"
            rf"0*(?P<asiento>\d{{1,{ASIENTO_DIGITS}}})$")


_CANONICAL = re.compile(CANONICAL_PATTERN)
# A cédula already masked (``8-***-4567``): what a month read back from the portal holds.
_MASKED = re.compile(rf"^{PREFIX}-{re.escape(MASK)}-\d{{1,{ASIENTO_DIGITS}}}$")
_TYPED = re.compile(typed_pattern())
_IN_TEXT = re.compile(IN_TEXT_PATTERN)


def parse(text: str) -> tuple[str, str, str] | None:
    """The canonical (prefix, tomo, asiento) of a cédula as typed, or None when it is not one."""
    match = _TYPED.match(str(text).strip().upper())
    if not match:
        return None
    prefix, tomo, asiento = match.group(1).lstrip("0"), match.group(2).lstrip("0"), match.group(3).lstrip("0")
    if not tomo or not asiento:  # a group of only zeros
        return None
    return prefix, tomo, asiento


def normalise(text: str) -> str | None:
    """``'08 0123 04567'`` -> ``'8-123-4567'``; None when the text is not a cédula."""
    parts = parse(text)
    return None if parts is None else "-".join(parts)


def is_valid(text: str) -> bool:
    """Whether ``text`` is a cédula in canonical form."""
    return bool(_CANONICAL.match(text))


def mask(text: str) -> str | None:
    """``8-123-4567`` -> ``8-***-4567`` (first and last parts kept); None when not cédula-shaped."""
    parts = parse(text)
    return None if parts is None else f"{parts[0]}-{MASK}-{parts[2]}"


def mask_text(value: str) -> str:
    """Keep the first and last characters and put stars in between; short texts become all stars.
    How a masked value is shown when it is no cédula (a name, or a cédula field holding junk)."""
    if len(value) <= 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_or_stars(text: str) -> str:
    """A cédula field's value masked: ``8-***-4567`` when cédula-shaped, else ``mask_text``. A value
    masked already stays as it is (a month read back from the portal is masked again when rendered)."""
    if _MASKED.match(text):
        return text
    masked = mask(text)
    return mask_text(text) if masked is None else masked


def mask_in_text(text: str) -> str:
    """Every cédula-shaped token inside free text masked (messages, examples)."""
    return _IN_TEXT.sub(lambda m: f"{m.group(1)}-{MASK}-{m.group(3).lstrip('0') or m.group(3)}", text)


# A cédula field's value in its common shapes, ASCII only: canonical or with leading zeros
# (``8-0123-04567``), or masked already (``8-***-4567``). What ``mask_or_stars_column`` decides
# column-wise; anything else (spaces, dots, pasted dashes, lower case, other digits) is left to
# ``mask_or_stars``, whose Python patterns read Unicode digits and spaces as the RE2 ones do not.
_SHAPED = rf"^(?P<prefix>{PREFIX})-(?P<tomo>\*\*\*|[0-9]+)-(?P<asiento>[0-9]+)$"


def mask_or_stars_column(texts: pa.Array) -> pa.Array:
    """``mask_or_stars`` of every text of an Arrow string array, column-wise, for the common shapes
    (``_SHAPED``); null where the text has another shape (or is null): the caller masks those one by one.

    Same results as ``mask_or_stars``: masked already with an asiento of 1–6 digits, kept; tomo and
    asiento of 1–4 and 1–6 digits once their leading zeros are stripped, masked as a cédula; any
    other shaped text (a group of only zeros, too many digits), ``mask_text``."""
    texts = texts.cast(pa.large_string())
    parts = pc.extract_regex(texts, _SHAPED)
    prefix, tomo, asiento = (pc.struct_field(parts, name) for name in ("prefix", "tomo", "asiento"))
    masked_already = pc.equal(tomo, MASK)
    asiento_digits = pc.utf8_length(asiento)
    tomo_kept, asiento_kept = (pc.utf8_length(pc.utf8_ltrim(group, characters="0")) for group in (tomo, asiento))
    is_cedula = pc.and_(pc.and_(pc.greater_equal(tomo_kept, 1), pc.less_equal(tomo_kept, TOMO_DIGITS)),
                        pc.and_(pc.greater_equal(asiento_kept, 1), pc.less_equal(asiento_kept, ASIENTO_DIGITS)))
    as_cedula = pc.binary_join_element_wise(prefix, pc.utf8_ltrim(asiento, characters="0"),
                                           pa.scalar(f"-{MASK}-", pa.large_string()))
    kept = pc.and_(masked_already, pc.less_equal(asiento_digits, ASIENTO_DIGITS))
    as_cedula_rows = pc.and_(pc.invert(masked_already), is_cedula)
    masked = pc.if_else(kept, texts, pc.if_else(as_cedula_rows, as_cedula, pa.scalar(None, pa.large_string())))
    stars = pc.and_(parts.is_valid(), pc.is_null(masked))  # shaped, yet no cédula: rare, so starred only if any
    return pc.if_else(stars, mask_text_column(texts), masked) if pc.any(stars).as_py() else masked


def mask_text_column(texts: pa.Array) -> pa.Array:
    """``mask_text`` of every text of an Arrow string array (characters counted as code points, as
    Python counts them)."""
    texts = texts.cast(pa.large_string())
    length = pc.utf8_length(texts)
    stars = pc.binary_repeat(pa.scalar("*", pa.large_string()), pc.max_element_wise(pc.subtract(length, 2), 0))
    long = pc.binary_join_element_wise(pc.utf8_slice_codeunits(texts, 0, 1), stars,
                                       pc.utf8_slice_codeunits(texts, -1), pa.scalar("", pa.large_string()))
    short = pc.binary_repeat(pa.scalar("*", pa.large_string()), length)
    return pc.if_else(pc.less_equal(length, 2), short, long)

"""Static SVG charts, written at render time: no JavaScript, no fonts or scripts from the network.

Charts are plain bars on a labelled value axis with their exact values printed on them (upright when
wider than the bar), dark on white, so
they read the same on screen and on paper (and in greyscale); months and labels are Spanish
("oct. 2026"). The same inputs give the same bytes.
An SVG meant to be inlined in an HTML page leaves out the XML namespace (HTML does not need it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from math import ceil, floor, log10

from transparencia.domain.period import Period

WIDTH = 720
PANEL_HEIGHT = 230
_TOP, _BOTTOM, _LEFT, _RIGHT = 34, 44, 16, 16
_AXIS = 74  # room left of the plot for the value axis: its title and its tick labels
_TICKS = 4  # about how many steps the value axis is divided in
_CHAR_WIDTH = 6.2  # an average character at font-size 10: whether an exact value fits across its bar
BAR_COLOR = "#1f4e79"
_GRID = "#b8bec8"
_TEXT = "#1a1a1a"
_MAX_VALUE_LABELS = 24
_GUIDE_LABELS = 130  # room on the right for the labels of reference lines
# ANTAI's bands (keyed by the band's slug), one palette for every chart that shows them: dark enough
# for print, and unlike the pages' status colours, so a screenshot's chart pixels are the chart's.
ANTAI_COLORS = {"cumple": "#1b7a44", "debe-mejorar": "#a36a00", "deficiente": "#b42323",
                "sin-informacion": "#6b7280"}


@dataclass(frozen=True)
class Series:
    """One panel: a title and one value per label (a month)."""

    title: str
    values: Sequence[float]
    axis: str = ""  # the value axis's title: what the values count or measure ("Personas", "B/.")
    colors: Sequence[str] | None = None  # one per bar; the default blue when None
    guides: Sequence[tuple[float, str]] = ()  # horizontal reference lines (value, label)
    maximum: float | None = None  # fixed top of the scale (100 for percentages)
    suffix: str = ""
    amounts: bool = False  # money: exact values show their cents (14,060.00)

    def exact(self, value: float) -> str:
        return amount(value) if self.amounts else number(value)


def chart(title: str, months: Sequence[Period], panels: Sequence[Series], *, standalone: bool = True) -> str:
    """One SVG with a panel per series stacked vertically, sharing the months ("oct. 2026")."""
    labels = [month.short_label_es for month in months]
    headrooms = [_headroom(len(labels), series) for series in panels]
    height = 28 + PANEL_HEIGHT * len(panels) + round(sum(headrooms))
    namespace = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    parts = [
        f'<svg{namespace} viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{_LEFT}" y="18" font-size="15" font-weight="bold" fill="{_TEXT}">{escape(title)}</text>',
    ]
    top = 28.0
    for series, headroom in zip(panels, headrooms):
        parts.append(_panel(labels, series, top, headroom))
        top += PANEL_HEIGHT + headroom
    parts.append("</svg>")
    svg = "\n".join(parts) + "\n"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + svg) if standalone else svg


def _plot_right(series: Series) -> float:
    return WIDTH - _RIGHT - (_GUIDE_LABELS if series.guides else 0)


def _slot(count: int, series: Series) -> float:
    """The width each month has on the plot."""
    return (_plot_right(series) - _AXIS) / max(count, 1)


def _headroom(count: int, series: Series) -> float:
    """Extra height over the plot when some exact value is wider than its bar: the values are then
    written upright, and the panel grows by the longest of them (nothing is abbreviated)."""
    if count > _MAX_VALUE_LABELS:
        return 0
    longest = max((len(series.exact(v) + series.suffix) for v in series.values), default=0) * _CHAR_WIDTH
    return 0 if longest <= _slot(count, series) else longest + 6


def _panel(labels: Sequence[str], series: Series, top: float, headroom: float) -> str:
    plot_top, plot_bottom = top + _TOP + headroom, top + headroom + PANEL_HEIGHT - _BOTTOM
    plot_left, plot_right = _AXIS, _plot_right(series)
    ticks = scale_ticks(series.maximum or max([abs(v) for v in series.values] + [0]))
    peak = ticks[-1]
    slot = _slot(len(labels), series)
    bar = max(min(slot * 0.7, 60), 2)
    show_values = len(labels) <= _MAX_VALUE_LABELS
    widest = max((len(label) for label in labels), default=0) * _CHAR_WIDTH + 6
    label_every = max(1, ceil(widest / slot))  # every month's name when they fit side by side
    out = [f'<text x="{_LEFT}" y="{top + 20}" font-size="13" font-weight="bold" fill="{_TEXT}">'
           f"{escape(series.title)}</text>",
           *_value_axis(series, ticks, plot_left, plot_right, plot_top, plot_bottom)]
    for value, text in series.guides:
        y = _y(value, peak, plot_top, plot_bottom)
        out.append(f'<line x1="{plot_left}" y1="{y:.1f}" x2="{plot_right}" y2="{y:.1f}" stroke="{_GRID}" '
                   f'stroke-dasharray="4 3"/>')
        out.append(f'<text x="{plot_right + 6}" y="{y + 4:.1f}" font-size="11" fill="{_TEXT}">'
                   f"{escape(text)}</text>")
    for i, (label, value) in enumerate(zip(labels, series.values)):
        x = plot_left + slot * i + (slot - bar) / 2
        y = _y(max(value, 0), peak, plot_top, plot_bottom)
        color = series.colors[i] if series.colors else BAR_COLOR
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{plot_bottom - y:.1f}" fill="{color}">'
                   f"<title>{escape(label)}: {escape(series.exact(value))}{series.suffix}</title></rect>")
        centre = x + bar / 2
        if show_values:
            upright = f' transform="rotate(-90 {centre:.1f} {y - 4:.1f})" dominant-baseline="middle"' if headroom else ""
            anchor = "start" if headroom else "middle"
            out.append(f'<text x="{centre:.1f}" y="{y - 4:.1f}" text-anchor="{anchor}"{upright} font-size="10" '
                       f'fill="{_TEXT}">{escape(series.exact(value))}{series.suffix}</text>')
        if i % label_every == 0:
            out.append(f'<text x="{centre:.1f}" y="{plot_bottom + 16}" text-anchor="middle" font-size="10" '
                       f'fill="{_TEXT}">{escape(label)}</text>')
    return "\n".join(out)


def _value_axis(series: Series, ticks: Sequence[float], left: float, right: float, top: float,
                bottom: float) -> list[str]:
    """The vertical axis: its title (rotated), a tick label and a light grid line per step."""
    middle = (top + bottom) / 2
    out = [f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="{_TEXT}"/>',
           f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{_TEXT}"/>',
           f'<text x="{_LEFT}" y="{middle:.1f}" transform="rotate(-90 {_LEFT} {middle:.1f})" text-anchor="middle" '
           f'dominant-baseline="hanging" font-size="11" fill="{_TEXT}">{escape(series.axis)}</text>']
    for tick in ticks:
        y = _y(tick, ticks[-1], top, bottom)
        if tick:
            out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{_GRID}" stroke-width="0.5"/>')
        out.append(f'<text x="{left - 5}" y="{y + 3.5:.1f}" text-anchor="end" font-size="10" fill="{_TEXT}">'
                   f"{escape(number(tick))}{series.suffix}</text>")
    return out


def scale_ticks(peak: float) -> list[float]:
    """The value axis's steps from 0 to a round top at or above ``peak``: 1, 2, 2.5 or 5 times a power of ten
    (93,000 -> 0, 25,000, ... 100,000), so its labels read at a glance."""
    if peak <= 0:
        return [0.0, 1.0]
    raw = peak / _TICKS
    power = 10 ** floor(log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [step * i for i in range(ceil(peak / step - 1e-9) + 1)]


def _y(value: float, peak: float, plot_top: float, plot_bottom: float) -> float:
    return plot_bottom - (plot_bottom - plot_top) * min(value / peak, 1.0)


def number(value: float) -> str:
    """A count or a measure: 1234.5 -> '1,234.50'; whole values without decimals (40 personas)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def amount(value: float) -> str:
    """Money, always with its cents: 14060 -> '14,060.00', so it reads like the 94,478.40 beside it."""
    return f"{value:,.2f}"


def figure(value: float | None, counted: bool = False) -> str:
    """A figure as pages and sentences print it: a count bare, an amount with its cents, none as a dash."""
    if value is None:
        return "—"
    return number(value) if counted else amount(value)


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: its label on the left, its value's length, the caption after it."""

    label: str
    value: float
    caption: str
    color: str
    css_class: str = ""


BAR_LENGTH = 420  # the longest horizontal bar
_BAR_STEP, _BAR_HEIGHT, _BAR_LEFT = 44, 28, 310


def horizontal_bars(title: str, bars: Sequence[Bar]) -> str:
    """An inline SVG with one horizontal bar per entry, scaled to the largest (the monitor's bands)."""
    largest = max((b.value for b in bars), default=0) or 1
    width, height = BAR_LENGTH + 400, 20 + _BAR_STEP * len(bars)
    parts = [f'<svg role="img" aria-labelledby="grafico-titulo" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'  <title id="grafico-titulo">{escape(title)}</title>']
    for index, bar in enumerate(bars):
        y, length = 10 + index * _BAR_STEP, round(BAR_LENGTH * bar.value / largest)
        parts += [f'  <text x="0" y="{y + 19}">{escape(bar.label)}</text>',
                  f'  <rect class="{escape(bar.css_class)}" x="{_BAR_LEFT}" y="{y}" width="{length}" '
                  f'height="{_BAR_HEIGHT}" fill="{bar.color}"/>',
                  f'  <text x="{_BAR_LEFT + 6 + length}" y="{y + 19}">{escape(bar.caption)}</text>']
    parts.append("</svg>")
    return "\n".join(parts) + "\n"

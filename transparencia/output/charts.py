"""Static SVG charts, written at render time: no JavaScript, no fonts or scripts from the network.

Charts are plain bars with their values printed on them, dark on white, so they read the same on
screen and on paper (and in greyscale); labels are Spanish. The same inputs give the same bytes.
An SVG meant to be inlined in an HTML page leaves out the XML namespace (HTML does not need it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 720
PANEL_HEIGHT = 230
_TOP, _BOTTOM, _LEFT, _RIGHT = 34, 44, 16, 16
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
    colors: Sequence[str] | None = None  # one per bar; the default blue when None
    guides: Sequence[tuple[float, str]] = ()  # horizontal reference lines (value, label)
    maximum: float | None = None  # fixed top of the scale (100 for percentages)
    suffix: str = ""
    amounts: bool = False  # money: exact values show their cents (14,060.00)

    def exact(self, value: float) -> str:
        return amount(value) if self.amounts else number(value)


def chart(title: str, labels: Sequence[str], panels: Sequence[Series], *, standalone: bool = True) -> str:
    """One SVG with a panel per series stacked vertically, sharing the month labels."""
    height = 28 + PANEL_HEIGHT * len(panels)
    namespace = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    parts = [
        f'<svg{namespace} viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{_LEFT}" y="18" font-size="15" font-weight="bold" fill="{_TEXT}">{escape(title)}</text>',
    ]
    for index, series in enumerate(panels):
        parts.append(_panel(labels, series, 28 + PANEL_HEIGHT * index))
    parts.append("</svg>")
    svg = "\n".join(parts) + "\n"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + svg) if standalone else svg


def _panel(labels: Sequence[str], series: Series, top: int) -> str:
    plot_top, plot_bottom = top + _TOP, top + PANEL_HEIGHT - _BOTTOM
    plot_right = WIDTH - _RIGHT - (_GUIDE_LABELS if series.guides else 0)
    plot_width = plot_right - _LEFT
    peak = series.maximum or max([abs(v) for v in series.values] + [0]) or 1
    slot = plot_width / max(len(labels), 1)
    bar = max(min(slot * 0.7, 60), 2)
    show_values = len(labels) <= _MAX_VALUE_LABELS
    label_every = max(1, round(len(labels) / 12))
    out = [f'<text x="{_LEFT}" y="{top + 20}" font-size="13" font-weight="bold" fill="{_TEXT}">'
           f"{escape(series.title)}</text>",
           f'<line x1="{_LEFT}" y1="{plot_bottom}" x2="{plot_right}" y2="{plot_bottom}" stroke="{_TEXT}"/>']
    for value, text in series.guides:
        y = _y(value, peak, plot_top, plot_bottom)
        out.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{plot_right}" y2="{y:.1f}" stroke="{_GRID}" '
                   f'stroke-dasharray="4 3"/>')
        out.append(f'<text x="{plot_right + 6}" y="{y + 4:.1f}" font-size="11" fill="{_TEXT}">'
                   f"{escape(text)}</text>")
    for i, (label, value) in enumerate(zip(labels, series.values)):
        x = _LEFT + slot * i + (slot - bar) / 2
        y = _y(max(value, 0), peak, plot_top, plot_bottom)
        color = series.colors[i] if series.colors else BAR_COLOR
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{plot_bottom - y:.1f}" fill="{color}">'
                   f"<title>{escape(label)}: {escape(series.exact(value))}{series.suffix}</title></rect>")
        centre = x + bar / 2
        if show_values:
            out.append(f'<text x="{centre:.1f}" y="{y - 4:.1f}" text-anchor="middle" font-size="10" fill="{_TEXT}">'
                       f"{escape(short_number(value, series.exact))}{series.suffix}</text>")
        if i % label_every == 0:
            out.append(f'<text x="{centre:.1f}" y="{plot_bottom + 16}" text-anchor="middle" font-size="10" '
                       f'fill="{_TEXT}">{escape(label)}</text>')
    return "\n".join(out)


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


def short_number(value: float, exact: Callable[[float], str] = number) -> str:
    """A bar label that fits: 1234567 -> '1.2 M', 45300 -> '45.3 mil'; smaller values ``exact``."""
    size = abs(value)
    if size >= 1_000_000:
        return f"{value / 1_000_000:.1f} M"
    if size >= 10_000:
        return f"{value / 1_000:.1f} mil"
    return exact(round(value, 2))


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

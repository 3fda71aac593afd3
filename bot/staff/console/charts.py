"""Charts drawn on the server as SVG: no chart library, no script, nothing to load from
elsewhere; the page's stylesheet gives the text its colour. Values are never negative."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 220
LEFT, BOTTOM, TOP = 36, 28, 12
COLOURS = ("#0b6bcb", "#c81e1e", "#b45309", "#15803d")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]


def bar_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], unit: str = ""
) -> Markup:
    """Stacked bars, one per label (a day, say), each series a colour; the legend names them."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(labels), 1)
    parts = [_open(title), *_axis(top, plot_h, unit)]
    for i, label in enumerate(labels):
        x = LEFT + i * slot + slot * 0.15
        base = float(TOP + plot_h)
        for colour, one in zip(COLOURS, series, strict=False):
            height = plot_h * one.values[i] / top
            if height > 0:
                base -= height
                parts.append(
                    f'<rect x="{x:.1f}" y="{base:.1f}" width="{slot * 0.7:.1f}" '
                    f'height="{height:.1f}" fill="{colour}"><title>{escape(one.label)} '
                    f"{escape(label)}: {one.values[i]:g}</title></rect>"
                )
        if len(labels) <= 16 or i % 2 == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - 10}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.extend(_legend(series))
    return Markup("".join([*parts, "</svg>"]))


def line_chart(
    title: str, labels: Sequence[str], values: Sequence[float | None], unit: str, top: float
) -> Markup:
    """One line over the labels (a share in percent up to `top`, say); gaps where there is
    no value."""
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(labels), 1)
    parts = [_open(title), *_axis(top, plot_h, unit)]
    points = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + (i + 0.5) * slot  # centred in its slot, so no label leaves the chart
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(label)}</text>'
        )
        if value is None:
            continue
        y = TOP + plot_h - plot_h * value / top
        points.append(f"{x:.1f},{y:.1f}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS[0]}">'
            f"<title>{escape(label)}: {value:g}{escape(unit)}</title></circle>"
        )
    if len(points) > 1:
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{COLOURS[0]}" '
            'stroke-width="2"/>'
        )
    return Markup("".join([*parts, "</svg>"]))


def _open(title: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )


def _axis(top: float, plot_h: float, unit: str) -> list[str]:
    parts = []
    for k in range(5):
        value = top * k / 4
        y = TOP + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9e2ec"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{value:g}{escape(unit)}</text>'
        )
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    if len(series) < 2:
        return []
    parts = []
    for i, (colour, one) in enumerate(zip(COLOURS, series, strict=False)):
        x = LEFT + 8 + i * 130
        parts.append(
            f'<rect x="{x}" y="{TOP}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{TOP + 9}">{escape(one.label)}</text>'
        )
    return parts


def _nice_max(value: float) -> float:
    """The axis top: 4 × a power of two at or above the largest value, so the four grid
    lines fall on whole numbers."""
    top = 4.0
    while top < value:
        top *= 2
    return top

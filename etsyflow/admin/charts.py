"""Server-side SVG pictures: no script, no library, readable without colour.

Each function returns SVG markup (a ``markupsafe.Markup``) with ``role="img"``,
an ``aria-label`` that says what the picture shows in words, and only
presentation attributes (the console's Content-Security-Policy forbids inline
styles). Written by hand: three small charts do not justify a plotting
library, and server-side SVG needs no JavaScript in the browser.
"""

from __future__ import annotations

from datetime import datetime, timezone

from markupsafe import Markup, escape

WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 14, 12, 44
FONT = 14
# Dark enough on white for WCAG AA (>= 4.5:1), told apart by dash pattern too.
COLOURS = ["#1f5fa8", "#a3410b", "#2e7031", "#6b3fa0", "#8a1c47", "#555555"]
DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "4 4"]


def _hhmm(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%H:%M")


def quota_gauge(used: int, limit: int, *, per_shop: dict | None = None) -> Markup:
    """A bar: calls used in the rolling day against the limit."""
    limit = max(int(limit), 1)
    share = min(max(int(used), 0) / limit, 1.0)
    width, height, pad = 2 * WIDTH, 76, 10
    bar = width - 2 * pad
    colour = "#2e7031" if share < 0.75 else "#a3410b" if share < 0.9 else "#a3141b"
    label = f"Etsy calls in the last 24 hours: {used} of {limit} ({share:.0%})"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" class="chart">',
        f"<title>{escape(label)}</title>",
        f'<rect x="{pad}" y="10" width="{bar}" height="28" fill="#e9ecef" stroke="#555555"/>',
        f'<rect x="{pad}" y="10" width="{bar * share:.1f}" height="28" fill="{colour}"/>',
        f'<text x="{pad}" y="62" font-size="{FONT + 2}" fill="#1a1a1a">{used} of {limit} calls ({share:.0%})</text>',
        "</svg>",
    ]
    return Markup("".join(parts))


def line_chart(series: dict[str, list[tuple[float, float]]], *, start: float, end: float, title: str,
               unit: str) -> Markup:
    """Lines over time (x: epoch seconds from ``start`` to ``end``); one per series name."""
    peak = max([v for points in series.values() for _, v in points] + [1])
    top = _nice(peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = max(end - start, 1.0)

    def x(t):
        return LEFT + (min(max(t, start), end) - start) / span * plot_w

    def y(v):
        return TOP + plot_h - (v / top) * plot_h

    latest = ", ".join(f"{name} {points[-1][1]:g}" for name, points in series.items() if points) or "no data yet"
    label = f"{title}, {_hhmm(start)} to {_hhmm(end)} UTC; latest: {latest} {unit}"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT + 18 * max(len(series) - 1, 0)}" '
           f'role="img" aria-label="{escape(label)}" class="chart">', f"<title>{escape(label)}</title>"]
    for fraction in (0, 0.5, 1):
        gy = y(top * fraction)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#c8c8c8"/>')
        out.append(f'<text x="{LEFT - 6}" y="{gy + 4:.1f}" font-size="{FONT}" text-anchor="end" fill="#1a1a1a">'
                   f"{top * fraction:g}</text>")
    for t, anchor in ((start, "start"), (start + span / 2, "middle"), (end, "end")):
        out.append(f'<text x="{x(t):.1f}" y="{TOP + plot_h + 17}" font-size="{FONT}" text-anchor="{anchor}" '
                   f'fill="#1a1a1a">{_hhmm(t)}</text>')
    out.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#555555"/>')
    for i, (name, points) in enumerate(series.items()):
        colour, dash = COLOURS[i % len(COLOURS)], DASHES[i % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        if len(points) == 1:
            px, py = x(points[0][0]), y(points[0][1])
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
        elif points:
            path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>')
        ly = HEIGHT - 4 + 18 * i
        out.append(f'<line x1="{LEFT}" x2="{LEFT + 24}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" '
                   f'stroke-width="3"{dash_attr}/>')
        out.append(f'<text x="{LEFT + 30}" y="{ly}" font-size="{FONT}" fill="#1a1a1a">{escape(name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _nice(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^n at or above ``value``."""
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10

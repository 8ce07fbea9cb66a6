"""Inline SVG for the HTML pages: a canvas of shapes, linear axes with round ticks.

Written by hand rather than through matplotlib: the pages must open without
network or extra files, matplotlib is an optional dependency, and a few dozen
shapes per plot are simpler to emit (and to find in a test's DOM) than to post-process.
Every text and attribute value goes through `escape`: benchmark names come from
user suites and results files, and a page must show `<script>` as text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape as _escape

Attributes = Mapping[str, object]


def escape(value: object) -> str:
    """Text or an attribute value, safe inside HTML and inline SVG (quotes included)."""
    return _escape(str(value), quote=True)


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if math.isfinite(value) else "0"


def attributes(attrs: Attributes) -> str:
    """` name="value"` pairs; floats rounded to a tenth of a pixel, None left out."""
    parts = []
    for name, value in attrs.items():
        if value is None:
            continue
        shown = _number(value) if isinstance(value, float) else escape(value)
        parts.append(f' {name.rstrip("_").replace("_", "-")}="{shown}"')
    return "".join(parts)


@dataclass(frozen=True)
class Scale:
    """A linear map from data values [low, high] onto pixels [start, end]."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low
        if span == 0 or not math.isfinite(value):
            return (self.start + self.end) / 2
        return self.start + (value - self.low) / span * (self.end - self.start)


def padded_range(values: Sequence[float], pad: float = 0.08) -> tuple[float, float]:
    """The range of the finite values, widened by `pad` of it on each side (never empty)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    if high == low:
        spread = abs(low) * 0.05 or 1.0
        return low - spread, high + spread
    margin = (high - low) * pad
    return low - margin, high + margin


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values (1, 2, 2.5 or 5 times a power of ten) in [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value = first + len(ticks) * step
    return ticks


def tick_label(value: float, ticks: Sequence[float]) -> str:
    """A tick's text with as many decimals as the step between ticks needs."""
    if len(ticks) < 2 or ticks[1] == ticks[0]:
        return f"{value:.4g}"
    step = abs(ticks[1] - ticks[0])
    power = math.floor(math.log10(step))
    # A step of 2.5 x 10^p needs one decimal more than 1, 2 or 5 x 10^p.
    extra = 1 if round(step / 10**power, 6) == 2.5 else 0
    return f"{value:,.{min(12, max(0, extra - power))}f}"


@dataclass
class Canvas:
    """An SVG drawing: shapes are appended in painting order, `render` wraps them."""

    width: int
    height: int
    parts: list[str] = field(default_factory=list)

    def add(self, tag: str, attrs: Attributes, text: str | None = None, title: str = "") -> None:
        """One element; `text` is its escaped content, `title` a tooltip."""
        inner = (f"<title>{escape(title)}</title>" if title else "") + (
            escape(text) if text is not None else ""
        )
        if inner:
            self.parts.append(f"<{tag}{attributes(attrs)}>{inner}</{tag}>")
        else:
            self.parts.append(f"<{tag}{attributes(attrs)}/>")

    def line(self, x1: float, y1: float, x2: float, y2: float, **attrs: object) -> None:
        self.add("line", {"x1": x1, "y1": y1, "x2": x2, "y2": y2, **attrs})

    def circle(self, x: float, y: float, r: float, title: str = "", **attrs: object) -> None:
        self.add("circle", {"cx": x, "cy": y, "r": r, **attrs}, title=title)

    def rect(
        self, x: float, y: float, w: float, h: float, title: str = "", **attrs: object
    ) -> None:
        self.add(
            "rect",
            {"x": x, "y": y, "width": max(w, 0.5), "height": max(h, 0.5), **attrs},
            title=title,
        )

    def text(self, x: float, y: float, content: str, **attrs: object) -> None:
        self.add("text", {"x": x, "y": y, **attrs}, text=content)

    def polyline(self, points: Sequence[tuple[float, float]], **attrs: object) -> None:
        self.add(
            "polyline",
            {
                "points": " ".join(f"{_number(x)},{_number(y)}" for x, y in points),
                "fill": "none",
                **attrs,
            },
        )

    def raw(self, markup: str) -> None:
        """Markup built by this module's own methods (e.g. a link around shapes)."""
        self.parts.append(markup)

    def y_axis(
        self, scale: Scale, x: float, ticks: Sequence[float], label: str, right: float
    ) -> None:
        """Tick labels left of `x` and a faint grid line across to `right` for each tick."""
        for tick in ticks:
            y = scale(tick)
            self.line(x, y, right, y, class_="grid")
            self.text(x - 4, y + 3.5, tick_label(tick, ticks), class_="tick", text_anchor="end")
        self.text(
            12,
            (scale.start + scale.end) / 2,
            label,
            class_="axis-label",
            text_anchor="middle",
            transform=f"rotate(-90 12 {_number((scale.start + scale.end) / 2)})",
        )

    def render(self, title: str, **attrs: object) -> str:
        """The <svg> element; `title` is its accessible name (and tooltip)."""
        head = attributes(
            {
                "xmlns": "http://www.w3.org/2000/svg",
                "viewBox": f"0 0 {self.width} {self.height}",
                "width": self.width,
                "height": self.height,
                "role": "img",
                "aria-label": title,
                **attrs,
            }
        )
        return f"<svg{head}><title>{escape(title)}</title>{''.join(self.parts)}</svg>"

"""reports/svg.py: the inline SVG of the HTML pages: escaping, scales, round ticks."""

from __future__ import annotations

import math

import pytest
from html_dom import parse
from perfagent.reports.svg import Canvas, Scale, escape, nice_ticks, padded_range, tick_label


def test_text_and_attributes_are_escaped() -> None:
    canvas = Canvas(100, 50)
    canvas.text(1.0, 2.0, '<script>alert("x")</script>', class_='a" onload="alert(1)')
    canvas.circle(3.0, 4.0, 2.0, title="</title><script>x</script>")
    markup = canvas.render("title <b>", data_benchmark='"><img src=x>')
    dom = parse(markup)
    assert dom.find_all("script") == [] and dom.find_all("img") == [] and dom.find_all("b") == []
    [svg] = dom.find_all("svg")
    assert svg.attrs["data-benchmark"] == '"><img src=x>'
    assert dom.find("text").text == '<script>alert("x")</script>'
    assert dom.find("text").attrs["class"] == 'a" onload="alert(1)'
    assert "onload" not in dom.find("text").attrs
    assert escape("a&b") == "a&amp;b"


def test_attribute_names_and_numbers() -> None:
    canvas = Canvas(10, 10)
    canvas.line(0.0, 1.25, 2.0, float("nan"), class_="grid", stroke_dasharray="2 3")
    [line] = parse(canvas.render("x")).find_all("line")
    assert line.attrs == {
        "x1": "0", "y1": "1.2", "x2": "2", "y2": "0", "class": "grid", "stroke-dasharray": "2 3"
    }  # fmt: skip


def test_scale_maps_and_inverts_the_axis() -> None:
    scale = Scale(0.0, 10.0, 200.0, 0.0)  # y grows downwards
    assert scale(0.0) == 200.0 and scale(10.0) == 0.0 and scale(5.0) == 100.0
    assert Scale(1.0, 1.0, 0.0, 100.0)(1.0) == 50.0


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.93, 1.12, [0.95, 1.0, 1.05, 1.1]),
        (-3.0, 7.0, [-2.0, 0.0, 2.0, 4.0, 6.0]),
        (1000.0, 26000.0, [5000.0, 10000.0, 15000.0, 20000.0, 25000.0]),
    ],
)
def test_nice_ticks(low: float, high: float, expected: list[float]) -> None:
    assert nice_ticks(low, high) == pytest.approx(expected)


def test_degenerate_ranges() -> None:
    assert nice_ticks(1.0, 1.0) == [1.0]
    assert nice_ticks(math.nan, 1.0) == []
    assert padded_range([]) == (0.0, 1.0)
    low, high = padded_range([2.0, 2.0])
    assert low < 2.0 < high
    assert padded_range([1.0, math.inf, 3.0], pad=0.0) == (1.0, 3.0)


def test_tick_labels_have_the_decimals_the_step_needs() -> None:
    assert [tick_label(t, [0.95, 1.0]) for t in (0.95, 1.0)] == ["0.95", "1.00"]
    assert tick_label(1.25, [1.0, 1.25]) == "1.25"
    assert tick_label(25000.0, [5000.0, 10000.0]) == "25,000"

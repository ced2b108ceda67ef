"""Bar charts as SVG files, drawn by pygal on the server: poll results and the weekly trend
of searches. Each chart is its own image (an <img> on the page), so pages carry no script and
no inline style; the chart's own CSS lives inside its SVG, which holds no script either
(pygal's tooltip script and its configuration are taken out)."""

from __future__ import annotations

import pygal
from flask import Response
from pygal.etree import etree
from pygal.style import Style

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#52606d",
    colors=("#0b5cad", "#c2410c", "#15803d"),
    font_family="system-ui, sans-serif",
)
# An SVG shown as an image: it may style itself, nothing else.
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def bars(title: str, labels: list[str], series: dict[str, list[int]]) -> bytes:
    """A horizontal bar chart: one bar per label and series."""
    chart = pygal.HorizontalBar(
        title=title,
        style=STYLE,
        js=[],
        width=720,
        height=max(220, 60 + 48 * len(labels) * max(1, len(series))),
        show_legend=len(series) > 1,
        print_values=True,
        truncate_label=60,
    )
    chart.x_labels = labels
    return _svg(chart, series)


def columns(title: str, labels: list[str], series: dict[str, list[int]]) -> bytes:
    """A column chart (time runs left to right): one group of columns per label."""
    chart = pygal.Bar(
        title=title,
        style=STYLE,
        js=[],
        width=900,
        height=360,
        x_label_rotation=45 if len(labels) > 8 else 0,
        legend_at_bottom=True,
    )
    chart.x_labels = labels
    return _svg(chart, series)


def _svg(chart: pygal.graph.graph.Graph, series: dict[str, list[int]]) -> bytes:
    for name, values in series.items():
        chart.add(name, values)
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return etree.tostring(tree, encoding="utf-8")


def svg_response(svg: bytes) -> Response:
    """The chart as an image response with a policy of its own (it is not a page)."""
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

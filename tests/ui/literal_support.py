"""Everything a page shows, read the way the browser would show it.

Markdown-bearing elements (headings, captions, markdown, alerts, labels of widgets, expanders,
tabs and metrics) go through :func:`tests.streamlit_markdown.shown`, which fails on anything
that would be interpreted; literal elements (``st.text``, ``st.code``, ``st.json``, dataframe
cells, selectbox options, widget values) are taken as they are; Plotly figures must carry no
markup of their own in their text, hover text and tick labels (bar the ``<br>`` we put there).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

from streamlit.testing.v1 import AppTest

from tests.hostile import normalised
from tests.streamlit_markdown import shown

MARKDOWN_VALUES = {
    "title", "header", "subheader", "markdown", "caption", "error", "warning", "info", "success",
}  # fmt: skip
LITERAL_VALUES = {"text", "code"}
PLOTLY_TEXT_KEYS = {"text", "hovertext", "x", "y", "ticktext", "name"}
OWN_MARKUP = re.compile(r"<br>")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _plotly(spec: dict[str, Any]) -> Iterator[str]:
    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in PLOTLY_TEXT_KEYS or (key == "text" and isinstance(value, str)):
                    yield from _strings(value)
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for text in walk(spec):
        bare = OWN_MARKUP.sub(" ", text)
        assert "<" not in bare and ">" not in bare, f"markup in a Plotly text: {text!r}"
        yield html.unescape(bare)


def _node_texts(node: Any) -> Iterator[str]:
    kind = getattr(node, "type", "")
    if kind in MARKDOWN_VALUES:
        yield shown(node.value)
    elif kind in LITERAL_VALUES:
        yield node.value
    elif kind == "json":
        yield node.proto.body
    elif kind == "dataframe":
        frame = node.value
        yield from (str(v) for v in frame.to_numpy().ravel().tolist())
    elif kind == "plotly_chart":
        yield from _plotly(json.loads(node.proto.spec))
    label = getattr(node, "label", None)
    if isinstance(label, str):
        yield shown(label)
    if kind in {"selectbox", "multiselect"}:
        yield from (str(o) for o in node.options)
    if kind in {"text_input", "text_area"}:
        yield str(node.value)


def visible(app: AppTest) -> str:
    """All the text of the page as a person reads it (fails if any of it is interpreted)."""
    texts = [t for block in (app.main, app.sidebar) for node in block for t in _node_texts(node)]
    return "\n".join(normalised(t) for t in texts)


def assert_literal(app: AppTest, *strings: str) -> None:
    """Each string appears, exactly as written, in what the page shows."""
    assert not app.exception, app.exception
    page = visible(app)
    missing = [s for s in strings if normalised(s) not in page]
    assert not missing, f"not shown literally: {missing}"

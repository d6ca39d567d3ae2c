"""The one rendering rule for text that came from agents, ingest, users or the LLM: it is shown
as literal text, never as markdown, directives, HTML, links, shortcodes or formulas.

Prefer elements that never interpret markdown (``st.text``, ``st.code``, dataframe cells,
``st.json``, selectbox options). Where Streamlit only offers markdown (titles, captions,
alerts, labels, expanders), pass the text through :func:`plain`; for Plotly hover text, tick
labels and annotations, through :func:`hover_text`.

Why :func:`plain` does more than backslash escaping (checked against Streamlit 1.67's
``StreamlitMarkdown`` bundle): the syntax constructs (emphasis, links, images ``![``, raw HTML
``<``, ``<…>`` autolinks, code, tables ``|``, strikethrough ``~``, math ``$``, directives such
as ``:red[…]`` and ``:help``, entities ``&…;``, list and heading markers) all start at an ASCII
punctuation character, and CommonMark turns a backslash before any ASCII punctuation into that
character, so escaping every one of them defeats them all. But several plugins then rewrite
the decoded *text*, where escapes are already gone: GFM's bare-URL, ``www.`` and e-mail
autolinks, ``:material_name:`` icons (Streamlit first rewrites ``:material/`` in the raw
source), ``:streamlit:``, emoji shortcodes, and typographic arrows (``->``, ``--``, ``>=``).
A WORD JOINER (U+2060, zero width, no line break) placed where those patterns need two
characters side by side (before ``:``, after ``@``, between ``www`` and ``.``, between
``<>-=~`` pairs) makes each of them fail while the text looks the same.
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"

# Every ASCII punctuation character (CommonMark's escapable set).
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
# Between two escaped characters of <>-=~ (an arrow or a dash pair, once decoded).
_ARROW_PAIR = re.compile(r"(?<=[<>\-=~])(?=\\[<>\-=~])")
_WWW_DOT = re.compile(r"(www)(\.)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85]")
# Plotly hover/tick text: its HTML subset escaped, line breaks as spaces (SVG text collapses runs).
_HOVER = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": " ", "\r": " ", "\t": " "})


def _line(text: str) -> str:
    text = _WWW_DOT.sub(rf"\1{WORD_JOINER}\2", _SPACES.sub(" ", text))
    text = _PUNCTUATION.sub(r"\\\g<0>", text)
    # Every ':' and '@' is now preceded by its own backslash, so these land between escapes.
    text = text.replace("\\:", WORD_JOINER + "\\:").replace("\\@", "\\@" + WORD_JOINER)
    return _ARROW_PAIR.sub(WORD_JOINER, text)


def plain(text: object) -> str:
    """Markdown source that Streamlit shows as exactly this text (line breaks kept, runs of
    spaces and blank lines shown as one, as HTML would)."""
    lines = (_line(line) for line in _LINE_BREAKS.split(str(text)))
    # No blank line may reach the markdown: it would end the paragraph and let the next line
    # start a block (an indented code block, say); a hard break keeps every line in one paragraph.
    return "  \n".join(line for line in lines if line.strip())


def hover_text(text: object) -> str:
    """Text for Plotly hover, tick labels and annotations, shown literally: Plotly renders a
    subset of HTML there (``<b>``, ``<a href>``, ``<span style>``, ``<br>``) and decodes
    entities, so ``&``, ``<`` and ``>`` are escaped; line breaks become spaces."""
    return str(text).translate(_HOVER)

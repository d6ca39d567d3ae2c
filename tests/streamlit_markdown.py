"""What Streamlit 1.67's markdown would show for a source string, for tests.

CommonMark + GFM tables and strikethrough come from markdown-it-py; Streamlit's own additions
(read from its ``StreamlitMarkdown`` bundle: ``:material/`` rewritten in the raw source,
remark-directive, remark-math, single-tilde strikethrough, and the plugins that rewrite decoded
text: GFM bare-URL / ``www.`` / e-mail autolinks, ``:material_x:`` icons, ``:streamlit:``,
emoji shortcodes, typographic arrows) are checked by hand. Anything that would be interpreted
raises ``AssertionError`` naming it; otherwise the visible text comes back.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"]).disable("text_join")
WORD_JOINER = "\u2060"

# Rewrites of decoded text nodes, as in the bundle (JS \p{P}|\p{S} approximated by \W).
TEXT_REWRITES = {
    "bare URL autolink": re.compile(r"(https?://|www(?=\.))([-.\w]+)", re.IGNORECASE),
    "e-mail autolink": re.compile(r"(?:^|(?<=[\s\W]))[-.\w+]+@[-\w]+(?:\.[-\w]+)+"),
    "material icon": re.compile(r":material_\w+:"),
    "streamlit logo": re.compile(r":streamlit:"),
    # remark-emoji replaces known names only; none is all digits bar these two.
    "emoji shortcode": re.compile(r":(?:[A-Za-z+-][\w+-]*|100|1234):"),
    "typographic arrow": re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
}
# Constructs that start at an unescaped character of a text run.
RAW_SYNTAX = {
    "directive": re.compile(r":[A-Za-z]"),
    "math": re.compile(r"\$"),
    "strikethrough": re.compile(r"~"),
}
ALLOWED = {"text", "text_special", "softbreak", "hardbreak", "strong_open", "strong_close"}


def _inline(tokens: list[Token]) -> str:
    shown: list[str] = []
    for token in tokens:
        if token.type not in ALLOWED:
            raise AssertionError(f"interpreted as {token.type}: {token.markup or token.content!r}")
        if token.type == "text":
            for name, pattern in RAW_SYNTAX.items():
                if pattern.search(token.content):
                    raise AssertionError(f"interpreted as {name}: {token.content!r}")
            shown.append(token.content)
        elif token.type == "text_special":
            if token.info != "escape":
                raise AssertionError(f"interpreted as {token.info}: {token.markup!r}")
            shown.append(token.content)
        elif token.type in {"softbreak", "hardbreak"}:
            shown.append("\n")
    text = "".join(shown)
    for name, pattern in TEXT_REWRITES.items():
        found = pattern.search(text)
        if found:
            raise AssertionError(f"rewritten as {name}: {found.group(0)!r} in {text!r}")
    return text.replace(WORD_JOINER, "")


def shown(source: str) -> str:
    """The text a browser shows for this markdown (our own bold and bullets allowed, nothing
    else interpreted)."""
    if ":material/" in source:
        raise AssertionError(f"rewritten as a material icon: {source!r}")
    blocks = [t for t in _MD.parse(source) if t.type != "inline" and t.nesting >= 0]
    kinds = {t.type for t in blocks}
    if not kinds <= {"paragraph_open", "heading_open", "bullet_list_open", "list_item_open"}:
        raise AssertionError(f"interpreted as {sorted(kinds)}: {source!r}")
    inline = [t for t in _MD.parse(source) if t.type == "inline"]
    return "\n".join(_inline(t.children or []) for t in inline)

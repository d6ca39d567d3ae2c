"""The one rendering rule: untrusted text shown literally in Streamlit markdown and Plotly."""

from __future__ import annotations

import html
import re

import pytest

from pages.components.literal import WORD_JOINER, hover_text, plain
from tests.hostile import HOSTILE, normalised
from tests.streamlit_markdown import shown


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_text_is_shown_exactly_as_written(text: str) -> None:
    assert shown(plain(text)) == normalised(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_text_stays_literal_inside_bold_and_a_title(text: str) -> None:
    assert shown(f"**{plain(text)}** · x") == normalised(text) + " · x"
    assert shown(f"# {plain(text)}") == normalised(text)


def test_line_breaks_are_kept_and_blank_lines_cannot_start_a_code_block() -> None:
    text = "first line\n\n    indented code?\n\n---\n1. item\n> quote\n| a | b |\n|---|---|"
    assert shown(plain(text)) == (
        "first line\nindented code?\n---\n1. item\n> quote\n| a | b |\n|---|---|"
    )


def test_a_bare_url_is_not_a_link_yet_reads_the_same() -> None:
    source = plain("http://evil.test/x")
    assert "http://" not in source  # Streamlit's GFM plugin links decoded text matching this
    assert source.replace(WORD_JOINER, "").replace("\\", "") == "http://evil.test/x"


def test_material_shortcodes_never_reach_streamlit_as_written() -> None:
    assert ":material/" not in plain(":material/warning:")  # rewritten before parsing
    decoded = plain(":material_warning:").replace("\\", "")  # what the icon plugin sees
    assert re.search(r":material_\w+:", decoded) is None


def test_non_text_values_are_shown_as_their_string() -> None:
    assert shown(plain(12.5)) == "12.5"
    assert plain("") == "" and plain("   \n  ") == ""


@pytest.mark.parametrize("text", HOSTILE)
def test_hover_text_carries_no_markup_and_decodes_to_the_text(text: str) -> None:
    escaped = hover_text(text)
    assert "<" not in escaped and ">" not in escaped
    assert html.unescape(escaped) == text


def test_hover_text_puts_line_breaks_on_one_line() -> None:
    assert hover_text("a\n<br>b") == "a &lt;br&gt;b"

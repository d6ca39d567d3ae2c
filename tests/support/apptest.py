"""Driving the console in AppTest: sign in, open a page, the review queue's widgets."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
REVIEW_QUEUE = "pages/review_queue.py"


def text(markdown: str) -> str:
    """What a person reads: markdown escapes removed."""
    return markdown.replace("\\", "").replace("\u2060", "")  # escapes, word joiners


def sign_in(app: AppTest, user_id: int) -> AppTest:
    """Demo sign-in as the user (the home page)."""
    app.run()
    assert not app.exception, app.exception
    app.selectbox[0].set_value(user_id)
    app.button[0].click().run()
    assert not app.exception, app.exception
    return app


def open_page(app: AppTest, user_id: int, page: str) -> AppTest:
    """Demo sign-in as the user, then one page of the navigation."""
    sign_in(app, user_id)
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def open_queue(app: AppTest, user_id: int) -> AppTest:
    """Demo sign-in as the user, then the review queue."""
    open_page(app, user_id, REVIEW_QUEUE)
    assert app.title[0].value == "Review queue"
    return app


def open_item(app: AppTest, item_id: int) -> None:
    """Pick an item in the queue's "Open item" box."""
    box = next(s for s in app.selectbox if s.label == "Open item")
    box.set_value(item_id).run()
    assert not app.exception, app.exception


def button(app: AppTest, label: str) -> object:
    """The button with this label."""
    return next(b for b in app.button if b.label == label)


def edit(app: AppTest) -> None:
    """Open the editor (its button, shortcut E)."""
    button(app, "Edit and approve").click().run()  # type: ignore[attr-defined]
    assert not app.exception, app.exception

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.enums import Role
from services.actor import Actor
from services.auth import is_loopback
from services.errors import InvalidInput, PermissionDenied
from services.pagination import decode_cursor, encode_cursor
from services.permissions import PERMISSIONS, Action, can, require


def actor(role: Role) -> Actor:
    return Actor(user_id=1, tenant_id=1, role=role)


def test_every_role_has_a_row_in_the_permission_table() -> None:
    assert set(PERMISSIONS) == set(Role)


def test_admin_may_do_everything_and_viewer_may_only_read() -> None:
    assert all(can(actor(Role.ADMIN), a) for a in Action)
    assert not can(actor(Role.VIEWER), Action.DECIDE_REVIEW)
    assert not can(actor(Role.VIEWER), Action.TRIGGER_RUN)
    assert can(actor(Role.VIEWER), Action.VIEW_METRICS)


def test_require_names_the_role_and_the_action_it_refuses() -> None:
    with pytest.raises(PermissionDenied, match=r"viewer.*decide review"):
        require(actor(Role.VIEWER), Action.DECIDE_REVIEW)


@given(st.lists(st.one_of(st.integers(), st.text(), st.none(), st.floats(allow_nan=False))))
def test_cursor_round_trips_any_sort_key(values: list[object]) -> None:
    assert decode_cursor(encode_cursor(values), arity=len(values)) == values


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", encode_cursor([1, 2, 3])])
def test_damaged_or_foreign_cursor_is_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInput, match="page link is damaged"):
        decode_cursor(cursor, arity=2)


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("", False), ("10.0.0.5", False), ("example.com", False)],
)  # fmt: skip
def test_only_loopback_addresses_count_as_loopback(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback

"""The Prompts page's service: validated edits, diff, rollback and the per-version figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.enums import Role
from services import prompt_admin, prompts
from services.errors import InvalidInput, PermissionDenied
from services.tenants import TenantWithUsers
from tests.integration.metrics_data import DAY2, SDR_P, seed_metrics

Pair = tuple[TenantWithUsers, TenantWithUsers]
KEY = "sdr.outreach"


def _active(admin: object, key: str = KEY) -> prompts.PromptRead:
    return next(p for p in prompts.list_prompts(actor=admin, key=key) if p.is_active)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("{company}", "{companny}"), "no input named companny"),
        (lambda t: t.replace("{company}", "{company"), "stray brace"),
        (lambda t: t.replace("{company}", "{company!r}"), "not a plain {name}"),
        (lambda t: t.replace("{company}", "{0}"), "not a plain {name}"),
        (lambda t: t.replace(prompts.USER_MARKER, "\n"), "system part and a user part"),
        (lambda t: t + "\x00", "NUL"),
        (lambda t: t + "x" * 20_001, "at most 20,000"),
    ],
)
def test_an_edit_whose_fields_do_not_match_the_agents_inputs_is_refused_and_nothing_saved(
    two_tenants: Pair, change: object, message: str
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    before = prompts.list_prompts(actor=admin, key=KEY)
    edited = change(before[0].template)  # type: ignore[operator]
    with pytest.raises(InvalidInput, match=message.replace("{", r"\{").replace("}", r"\}")):
        prompt_admin.new_version(actor=admin, key=KEY, template=edited, parameters_json="{}")
    assert prompts.list_prompts(actor=admin, key=KEY) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"temperature": NaN}', "not valid JSON"),
        ('{"temperature": 7}', "temperature must be"),
        ('{"max_tokens": 0.5}', "max_tokens must be"),
        ('{"stop": {"nested": [1]}}', "must be a number"),
        ("[1, 2]", "JSON object"),
        ("[" * 100_000, "at most 2,000"),
        ("{", "not valid JSON"),
    ],
)
def test_hostile_parameters_get_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        prompt_admin.parse_parameters(text)


def test_a_valid_edit_is_a_new_inactive_version_with_a_diff_and_rollback_restores_the_old(
    two_tenants: Pair,
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    v1 = _active(admin)
    edited = v1.template.replace("Industry: {industry}\n", "")
    check = prompt_admin.check_template(key=KEY, template=edited)
    assert check.unused_inputs == ["industry"]
    v2 = prompt_admin.new_version(
        actor=admin, key=KEY, template=edited, parameters_json='{"temperature": 0.2}'
    )
    assert (v2.version, v2.is_active, v2.parameters) == (2, False, {"temperature": 0.2})
    patch = prompt_admin.diff(actor=admin, key=KEY, old=1, new=2)
    assert "-Industry: {industry}" in patch and '+  "temperature": 0.2' in patch
    assert prompt_admin.diff(actor=admin, key=KEY, old=2, new=2) == ""
    prompts.activate(actor=admin, prompt_id=v2.id)
    assert _active(admin).version == 2
    assert prompt_admin.rollback(actor=admin, key=KEY).version == 1
    assert _active(admin).version == 1
    with pytest.raises(InvalidInput, match="no older version"):
        prompt_admin.rollback(actor=admin, key=KEY)
    keys = {k.key: k for k in prompt_admin.list_keys(actor=admin)}
    assert keys[KEY].active_version == 1 and [v.version for v in keys[KEY].versions] == [2, 1]


def test_only_admins_manage_prompts(two_tenants: Pair) -> None:
    north = two_tenants[0]
    for role in (Role.REVIEWER, Role.SDR, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            prompt_admin.list_keys(actor=north.actor(role))
        with pytest.raises(PermissionDenied):
            prompt_admin.new_version(
                actor=north.actor(role), key=KEY, template="x", parameters_json="{}"
            )


def test_each_version_shows_its_runs_review_outcomes_and_invalid_output_rate(
    two_tenants: Pair,
) -> None:
    north, south = two_tenants
    seed_metrics(north, south)
    stats = prompt_admin.version_stats(
        actor=north.actor(Role.ADMIN), key=SDR_P, now=DAY2 + timedelta(days=1)
    )
    by = {s.version: s for s in stats}
    # v1: calls c1 (r1), c7 (r7), c9 (no run); r1 drafted i1 (approved as drafted), i8 (rejected)
    assert (by[1].runs, by[1].calls, by[1].invalid_rate) == (2, 3, 0.0)
    assert (by[1].drafts, by[1].approval_rate, by[1].edit_rate) == (2, 0.5, 0.0)
    # v2: calls c2, c3 (r2, c3 invalid), c4 (r3); r2 drafted i2 (edited by 12), i3 (rejected)
    assert (by[2].runs, by[2].calls, by[2].invalid_rate) == (2, 3, pytest.approx(1 / 3))
    assert (by[2].drafts, by[2].approval_rate, by[2].edit_rate) == (2, 0.5, 1.0)
    assert by[2].median_edit_distance == 12
    assert [s.version for s in stats] == [2, 1]
    south_stats = prompt_admin.version_stats(
        actor=south.actor(Role.ADMIN), key=SDR_P, now=DAY2 + timedelta(days=1)
    )
    assert sum(s.calls for s in south_stats) <= 1  # only south's own decoy call

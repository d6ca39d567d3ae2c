"""Review policies, reason codes, edit distance and diffs: pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.enums import ReasonCode, ReviewKind, Role
from domain.policy_settings import policy_from_settings
from domain.review_policy import (
    REASON_LABELS,
    PolicyRefusal,
    ReviewPolicy,
    Rule,
    approval_is_final,
    check_dunning_cadence,
    check_may_contact,
    check_may_decide,
    check_outreach_cadence,
    check_outreach_daily_limit,
)
from domain.text_diff import changed_fields, edit_distance, payload_text, unified_diff

K = ReviewKind
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_default_policy_lets_finance_decide_dunning_but_not_outreach() -> None:
    policy = ReviewPolicy()
    check_may_decide(
        policy,
        kind=K.DUNNING_NOTICE,
        role=Role.FINANCE,
        user_id=1,
        triggered_by_id=None,
        approving=True,
    )
    with pytest.raises(PolicyRefusal) as refused:
        check_may_decide(
            policy,
            kind=K.OUTREACH_EMAIL,
            role=Role.FINANCE,
            user_id=1,
            triggered_by_id=None,
            approving=True,
        )
    assert refused.value.rule is Rule.ROLE
    assert "role may decide kind" in str(refused.value)


def test_viewer_may_decide_no_kind_and_reviewer_every_kind_by_default() -> None:
    policy = ReviewPolicy()
    assert policy.kinds_for(Role.VIEWER) == []
    assert policy.kinds_for(Role.REVIEWER) == list(ReviewKind)
    assert policy.kinds_for(Role.SALES) == [K.DEAL_PROPOSAL, K.COUNTER_OFFER, K.CONTRACT]


def test_the_user_who_triggered_the_run_may_not_approve_but_may_reject_its_output() -> None:
    policy = ReviewPolicy()
    with pytest.raises(PolicyRefusal) as refused:
        check_may_decide(
            policy,
            kind=K.OUTREACH_EMAIL,
            role=Role.SDR,
            user_id=7,
            triggered_by_id=7,
            approving=True,
        )
    assert refused.value.rule is Rule.SELF_APPROVAL
    check_may_decide(
        policy,
        kind=K.OUTREACH_EMAIL,
        role=Role.SDR,
        user_id=7,
        triggered_by_id=7,
        approving=False,
    )


def test_amount_above_the_limit_needs_a_second_different_approver() -> None:
    policy = ReviewPolicy()
    args = {"kind": K.DEAL_PROPOSAL, "amount": 80_000.0}
    assert approval_is_final(policy, **args, user_id=1, first_approver_id=None) is False
    assert approval_is_final(policy, **args, user_id=2, first_approver_id=1) is True
    with pytest.raises(PolicyRefusal) as refused:
        approval_is_final(policy, **args, user_id=1, first_approver_id=1)
    assert refused.value.rule is Rule.FOUR_EYES


def test_amount_at_or_below_the_limit_needs_one_approver() -> None:
    policy = ReviewPolicy()
    assert approval_is_final(
        policy, kind=K.DEAL_PROPOSAL, amount=50_000.0, user_id=1, first_approver_id=None
    )
    assert approval_is_final(
        policy, kind=K.OUTREACH_EMAIL, amount=10**9, user_id=1, first_approver_id=None
    )


def test_do_not_contact_blocks_outreach() -> None:
    check_may_contact(do_not_contact=False, who="Jane")
    with pytest.raises(PolicyRefusal) as refused:
        check_may_contact(do_not_contact=True, who="Jane")
    assert refused.value.rule is Rule.DO_NOT_CONTACT and "Jane" in str(refused.value)


def test_dunning_cadence_refuses_a_second_notice_within_n_days() -> None:
    check_dunning_cadence(last_dunned_at=None, now=NOW, cadence_days=7, invoice="INV-1")
    check_dunning_cadence(
        last_dunned_at=NOW - timedelta(days=7), now=NOW, cadence_days=7, invoice="INV-1"
    )
    with pytest.raises(PolicyRefusal) as refused:
        check_dunning_cadence(
            last_dunned_at=NOW - timedelta(days=6, hours=23),
            now=NOW,
            cadence_days=7,
            invoice="INV-1",
        )
    assert refused.value.rule is Rule.DUNNING_CADENCE and "INV-1" in str(refused.value)


def test_outreach_cadence_refuses_a_second_email_within_n_days_and_zero_turns_it_off() -> None:
    check_outreach_cadence(last_contacted_at=None, now=NOW, cadence_days=3, who="Jane")
    check_outreach_cadence(last_contacted_at=NOW - timedelta(days=3), now=NOW, cadence_days=3,
                           who="Jane")  # fmt: skip
    check_outreach_cadence(last_contacted_at=NOW, now=NOW, cadence_days=0, who="Jane")
    with pytest.raises(PolicyRefusal) as refused:
        check_outreach_cadence(
            last_contacted_at=NOW - timedelta(minutes=5), now=NOW, cadence_days=3, who="Jane"
        )
    assert refused.value.rule is Rule.OUTREACH_CADENCE and "Jane" in str(refused.value)


def test_outreach_daily_limit_refuses_at_the_limit_and_zero_means_no_limit() -> None:
    check_outreach_daily_limit(sent_last_day=199, limit=200)
    check_outreach_daily_limit(sent_last_day=10_000, limit=0)
    with pytest.raises(PolicyRefusal) as refused:
        check_outreach_daily_limit(sent_last_day=200, limit=200)
    assert refused.value.rule is Rule.OUTREACH_DAILY_LIMIT


@pytest.mark.parametrize("bad", [-1, "NaN", "soon", True, None, [3]])
def test_outreach_policy_numbers_must_be_whole_non_negative_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match="outreach_cadence_days"):
        policy_from_settings({"review_policy": {"outreach_cadence_days": bad}})
    ok = policy_from_settings({"review_policy": {"outreach_daily_limit": 5}})
    assert (ok.outreach_daily_limit, ok.outreach_cadence_days) == (5, 3)


def test_tenant_settings_override_defaults_and_keep_the_rest() -> None:
    policy = policy_from_settings(
        {
            "review_policy": {
                "deciders": {"rca_hypothesis": ["admin"]},
                "four_eyes_limits": {"deal_proposal": 1000, "dunning_notice": None},
                "dunning_cadence_days": 3,
                "sla_hours": {"outreach_email": 1},
            }
        }
    )
    assert policy.deciders[K.RCA_HYPOTHESIS] == frozenset({Role.ADMIN})
    assert policy.deciders[K.OUTREACH_EMAIL] == ReviewPolicy().deciders[K.OUTREACH_EMAIL]
    assert policy.four_eyes_limits == {K.DEAL_PROPOSAL: 1000.0, K.COUNTER_OFFER: 50_000.0}
    assert policy.dunning_cadence_days == 3
    assert policy.due_at(K.OUTREACH_EMAIL, NOW) == NOW + timedelta(hours=1)
    assert policy_from_settings({"review_policy": policy.to_settings()}) == policy


def test_empty_settings_give_the_default_policy() -> None:
    assert policy_from_settings({}) == ReviewPolicy()
    assert policy_from_settings(None) == ReviewPolicy()


@pytest.mark.parametrize(
    "bad",
    [
        {"deciders": {"no_such_kind": ["admin"]}},
        {"deciders": {"outreach_email": ["janitor"]}},
        {"four_eyes_limits": {"deal_proposal": -1}},
        {"dunning_cadence_days": -2},
        {"sla_hours": {"outreach_email": 0}},
        {"sla_hours": ["outreach_email"]},
    ],
)
def test_bad_policy_settings_are_refused_with_a_reason(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        policy_from_settings({"review_policy": bad})


def test_every_reason_code_has_a_label() -> None:
    assert set(REASON_LABELS) == set(ReasonCode)
    assert [c.value for c in ReasonCode] == [
        "wrong_facts",
        "tone",
        "policy",
        "duplicate",
        "not_needed",
        "other",
    ]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("flaw", "lawn", 2),
        ("Hello Jane,", "Hello Janet,", 1),
        ("same", "same", 0),
    ],
)
def test_edit_distance_counts_single_character_edits(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_payload_text_and_diff_show_what_the_reviewer_changed() -> None:
    before = {"subject": "Hi", "body": "Line one\nLine two", "amount": 5}
    after = {"subject": "Hi", "body": "Line one\nLine 2", "amount": 5}
    diff = unified_diff(payload_text(before), payload_text(after))
    assert "-Line two" in diff and "+Line 2" in diff
    assert unified_diff("x", "x") == ""
    assert changed_fields(before, after) == ["body"]
    assert payload_text({"b": "1", "a": [1]}) == "a: [1]\nb: 1"

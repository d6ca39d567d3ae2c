"""What the reviewer learns before and after deciding: the pre-checks and a failed execution."""

from __future__ import annotations

import streamlit as st

from pages.components.feedback import plain
from services import review
from services.review import ReviewItemDetail, ReviewPreChecks


def pre_checks(report: ReviewPreChecks) -> None:
    """The checks an approval would make, worked out before anyone clicks."""
    if not report.checks:
        return
    st.markdown("**Before you approve**")
    for check in report.checks:
        if check.outcome == "blocked":
            st.error(plain(check.message), icon=":material/block:")
        elif check.outcome == "warning":
            st.warning(plain(check.message), icon=":material/group:")
        else:
            st.caption(f"✓ {plain(check.message)}")


def failure(detail: ReviewItemDetail) -> None:
    """A failed execution: what went wrong and what to do next, never in a green box."""
    item = detail.item
    if item.status is not review.ReviewStatus.FAILED:
        return
    error = item.execution_error or "no reason was recorded"
    st.error(
        f"**Carrying this out failed.** {plain(error)}  \n"
        f"**Next step:** {plain(detail.next_step or '')}",
        icon=":material/error:",
    )

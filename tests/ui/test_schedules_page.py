"""The Schedules page over real services: who reaches it, a refused cron, create and disable."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import Role
from services import schedules
from services.tenants import TenantWithUsers
from tests.support import apptest as ui

Pair = tuple[TenantWithUsers, TenantWithUsers]
PAGE = "pages/schedules.py"
CREATE = "FormSubmitter:new_schedule-Create schedule"


def _input(app: AppTest, label: str, value: str) -> None:
    next(t for t in app.text_input if t.label == label).input(value)


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_an_admin_is_told_what_is_wrong_then_creates_and_disables_a_schedule(
    app: AppTest, two_tenants: Pair
) -> None:
    north, south = two_tenants
    admin = north.actor(Role.ADMIN)
    ui.open_page(app, north.users[Role.ADMIN].id, PAGE)
    assert [i.value for i in app.info] == ["No schedules yet."]
    _input(app, "Name", "Weekday dunning")
    _input(app, "Cron (minute hour day month weekday)", "0 25 * * 1-5")
    app.button(key=CREATE).click().run()
    assert "not a valid cron expression" in ui.text(app.error[0].value)
    _input(app, "Cron (minute hour day month weekday)", "0 7 * * 1-5")
    _input(app, "Time zone", "Atlantis/Capital")
    app.button(key=CREATE).click().run()
    assert "not an IANA time zone" in ui.text(app.error[0].value)
    assert schedules.list_schedules(actor=admin) == []

    _input(app, "Time zone", "Europe/Berlin")
    app.button(key=CREATE).click().run()
    assert not app.exception, app.exception
    assert "Created Weekday dunning; first run" in ui.text(app.success[0].value)
    [row] = schedules.list_schedules(actor=admin)
    assert (row.cron, row.timezone, row.selection["overdue_days"]) == (
        "0 7 * * 1-5",
        "Europe/Berlin",
        7,
    )
    assert schedules.list_schedules(actor=south.actor(Role.ADMIN)) == []
    [next_run] = list(app.dataframe[0].value["Next"])
    assert next_run.endswith("07:00 Europe/Berlin")

    next(c for c in app.checkbox if c.label == "Enabled").uncheck()
    app.button(key=f"FormSubmitter:edit_schedule_{row.id}_{row.row_version}-Save changes").click()
    app.run()
    assert not app.exception, app.exception
    assert "Saved Weekday dunning" in ui.text(app.success[0].value)
    assert schedules.list_schedules(actor=admin)[0].enabled is False
    assert list(app.dataframe[0].value["Enabled"]) == [False]


@pytest.mark.usefixtures("demo_auth", "loopback")
@pytest.mark.parametrize("role", [Role.FINANCE, Role.REVIEWER, Role.VIEWER])
def test_no_one_but_an_admin_reaches_the_schedules_page(
    app: AppTest, two_tenants: Pair, role: Role
) -> None:
    app.run()
    app.selectbox[0].set_value(two_tenants[0].users[role].id)
    app.button[0].click().run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE)

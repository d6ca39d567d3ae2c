"""One simulated reviewer of bench.console_load: a browser context that signs in with a password
and works the review queue (open the queue, open items, search, next item, approve) until told
to stop, timing each action from the click (or key press) to the end of the script run it
started, as the browser sees it."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import BrowserContext, Locator, Page, expect

# Counts the script runs that finished (Streamlit's stApp leaves data-test-script-state
# "running") and notes when the last click or key press happened, in the page's own clock.
WATCH = """
window.__revoDone = 0;
window.__revoInput = performance.now();
window.__revoWaiters = [];
const mark = () => { window.__revoInput = performance.now(); };
document.addEventListener('mousedown', mark, true);
document.addEventListener('keydown', mark, true);
new MutationObserver((records) => {
  for (const r of records) if (r.oldValue === 'running') window.__revoDone++;
  window.__revoWaiters = window.__revoWaiters.filter((check) => !check());
}).observe(document, {attributes: true, subtree: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});
"""
# Resolves with the milliseconds from the last input to the moment a run that began after
# `base` finished and the app is idle.
SETTLED = """
(base) => new Promise((resolve) => {
  const check = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = app && app.getAttribute('data-test-script-state') === 'notRunning';
    if (window.__revoDone > base && idle) {
      resolve(performance.now() - window.__revoInput);
      return true;
    }
    return false;
  };
  if (!check()) window.__revoWaiters.push(check);
})
"""
SEARCH_TERMS = ("customer 12", "inv-b-0042", "pool exhausted", "an idea for customer 7", "zzqx")
HELD = re.compile(r"You hold #(\d+) now")
TIMEOUT_MS = 30_000


@dataclass
class Tally:
    """What all reviewers measured and saw."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    messages: list[str] = field(default_factory=list)
    confirmed: list[tuple[int, str, str]] = field(default_factory=list)  # item, email, outcome
    refused: list[tuple[int, str, str]] = field(default_factory=list)

    def error(self, action: str, exc: BaseException | str) -> None:
        why = exc if isinstance(exc, str) else f"{type(exc).__name__}: {str(exc)[:160]}"
        self.errors[action] += 1
        if len(self.messages) < 20:
            self.messages.append(f"{action}: {' '.join(why.split())}")


class Reviewer:
    def __init__(self, context: BrowserContext, console: str, email: str, password: str) -> None:
        self.context, self.console, self.email, self.password = context, console, email, password
        self.rng = random.Random(email)
        self.page: Page | None = None
        self.on_home = False

    async def _timed(
        self, tally: Tally, action: str, act: Any, think: float, until: Locator | None = None
    ) -> bool:
        """Do one action (a coroutine factory whose input starts a script run); record its
        time, or an error if it failed or took longer than the timeout. With `until`, the
        action ends once that element shows too (an action that reruns the script runs twice)."""
        page = self.page
        assert page is not None
        try:
            base = await page.evaluate("window.__revoDone")
            await act()
            ms = await asyncio.wait_for(page.evaluate(SETTLED, base), TIMEOUT_MS / 1000)
            if until is not None:
                settled = time.perf_counter()
                await expect(until.first).to_be_visible(timeout=TIMEOUT_MS)
                ms += (time.perf_counter() - settled) * 1000
        except Exception as exc:  # a timeout, a missing element, a closed page
            tally.error(action, exc)
            return False
        tally.times[action].append(float(ms))
        await asyncio.sleep(think * self.rng.uniform(0.5, 1.5))
        return True

    async def sign_in(self, tally: Tally, gate: asyncio.Semaphore) -> bool:
        """Open the console and sign in with the password form (a few reviewers at a time:
        twenty first page loads at once on two busy cores time out before anyone works)."""
        await self.context.add_init_script(WATCH)
        page = self.page = await self.context.new_page()
        async with gate:
            try:
                await page.goto(self.console, timeout=3 * TIMEOUT_MS)
                heading = page.get_by_role("heading", name="Sign in to Revo Console")
                await expect(heading).to_be_visible(timeout=3 * TIMEOUT_MS)
                await page.get_by_role("textbox", name="Email").fill(self.email)
                await page.get_by_role("textbox", name="Password").fill(self.password)
                started = time.perf_counter()
                await page.get_by_role("button", name="Sign in").click()
                home = page.get_by_role("heading", name="Revo Console", exact=True)
                await expect(home).to_be_visible(timeout=3 * TIMEOUT_MS)
                await self._after_handoff()
            except Exception as exc:
                tally.error("sign_in", exc)
                return False
        tally.times["sign_in"].append((time.perf_counter() - started) * 1000)
        self.on_home = True
        return True

    async def _after_handoff(self) -> None:
        """Wait out the session-cookie handoff: it reloads the page, which resets the run
        counter, so a wait begun before the reload would never end."""
        page = self.page
        assert page is not None
        for _ in range(3 * TIMEOUT_MS // 250):
            if any(c["name"] == "revo_session" for c in await self.context.cookies()):
                break
            await page.wait_for_timeout(250)
        await page.wait_for_load_state("load")
        idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
        await expect(idle).to_be_attached(timeout=3 * TIMEOUT_MS)
        await expect(page.get_by_role("heading", name="Revo Console", exact=True)).to_be_visible(
            timeout=3 * TIMEOUT_MS
        )

    async def work(self, tally: Tally, deadline: float, think: float) -> None:
        """Loop over the reviewer's round until the deadline."""
        while time.monotonic() < deadline:
            try:
                await self._round(tally, deadline, think)
            except Exception as exc:  # a step between timed actions failed: next round
                tally.error("round", exc)

    async def _round(self, tally: Tally, deadline: float, think: float) -> None:
        page = self.page
        assert page is not None
        home = page.get_by_role("link", name="Home")
        if not self.on_home and not await self._timed(tally, "open_home", home.click, think):
            return
        self.on_home = False
        queue = page.get_by_role("link", name="Review queue")
        if not await self._timed(tally, "open_queue", queue.click, think):
            return
        await expect(page.get_by_text(re.compile(r"items match"))).to_be_visible(timeout=TIMEOUT_MS)
        for _ in range(2):
            if not await self._timed(tally, "open_item", self._pick_item, think):
                return
        box = page.get_by_role("textbox", name="Search subject and draft")
        for term in (self.rng.choice(SEARCH_TERMS), ""):
            await box.fill(term)
            if not await self._timed(tally, "search", lambda: box.press("Enter"), think):
                return
        if time.monotonic() >= deadline:
            return  # no decision half-way through: every approve is waited for below
        nxt = page.get_by_role("button", name="Next item")
        held = page.get_by_text(HELD)
        if not await self._timed(tally, "next_item", nxt.click, think, until=held):
            return
        item_id = int(HELD.search(await held.first.inner_text()).group(1))  # type: ignore[union-attr]
        approve = page.locator("button").filter(has_text=re.compile(r"^\s*Approve\s*A?\s*$"))
        said = re.compile(rf"#{item_id}\b")
        flash = page.get_by_test_id("stAlertContainer").filter(has_text=said)
        if not await self._timed(tally, "approve", approve.click, think, until=flash):
            tally.refused.append((item_id, self.email, "no confirmation"))
            return
        await self._outcome(tally, item_id)

    async def _pick_item(self) -> None:
        """Open one of the first items in the list, other than the one open now."""
        page = self.page
        assert page is not None
        box = page.get_by_label("Open item")
        now = (await box.input_value()).strip()
        await box.click()
        await page.keyboard.press("ArrowDown")  # this combobox opens from the keyboard
        options = page.get_by_role("option")
        await expect(options.first).to_be_visible()
        names = [await options.nth(k).inner_text() for k in range(min(await options.count(), 8))]
        others = [k for k, name in enumerate(names) if name.strip() != now]
        await options.nth(self.rng.choice(others)).click()

    async def _outcome(self, tally: Tally, item_id: int) -> None:
        """What the flash after Approve said: a decision the UI confirmed, or a refusal."""
        page = self.page
        assert page is not None
        done = page.get_by_text(re.compile(rf"(Item #{item_id} (approved|was approved))"))
        first = page.get_by_text(f"First approval recorded for item #{item_id}.")
        if await done.count():
            text = await done.first.inner_text()
            outcome = "approved" if "carrying it out failed" not in text else "approved_failed"
            tally.confirmed.append((item_id, self.email, outcome))
        elif await first.count():
            tally.confirmed.append((item_id, self.email, "first_approval"))
        else:
            alerts = page.get_by_role("alert")
            said = await alerts.first.inner_text() if await alerts.count() else "(no message)"
            tally.refused.append((item_id, self.email, said[:200]))
            tally.error("approve", f"#{item_id} not confirmed: {said[:160]}")

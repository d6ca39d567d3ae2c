"""Labelled incidents for the correlation suite: the change that caused each, among real noise.

Each scenario is data: the dependency graph, the path map, the investigation (service or none,
component), the story's events (minutes relative to detection) and the labels of the culprit
change (a commit and the deploy that shipped it count as the same change). ``noise`` adds a
seeded, realistic background: commits, builds and deploys of every service (the affected one
too, away from the story), low-severity blips, and a burst of deploys in noisy hours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from domain.enums import EventSeverity, EventSource

SERVICES = ("checkout", "payments-api", "search", "auth", "inventory", "notifications", "ledger")
DOC_FILES = ["README.md", "docs/runbook.md"]
Row = tuple[str, EventSource, str, float, str | None, EventSeverity, dict[str, Any]]
M, L, H, C = EventSeverity.MEDIUM, EventSeverity.LOW, EventSeverity.HIGH, EventSeverity.CRITICAL
INFO = EventSeverity.INFO


@dataclass
class Scenario:
    name: str
    service: str | None
    culprit: set[str]
    story: list[Row]
    deps: dict[str, list[str]] = field(default_factory=dict)
    paths: list[tuple[str, str]] = field(default_factory=list)
    component: str | None = None
    noisy: bool = False
    quiet_service: str | None = None  # keep background changes of this service off the story


def commit(label: str, at: float, service: str | None, files: list[str], **kw: Any) -> Row:
    data = {"sha": kw.pop("sha", f"{label}0000000"), "files": files, "message": label, **kw}
    return (label, EventSource.GIT, "commit", at, service, INFO, data)


def deploy(
    label: str, at: float, service: str, sha: str, env: str = "production", **kw: Any
) -> Row:
    data = {"commit": sha, "environment": env, "status": kw.pop("status", "succeeded"), **kw}
    return (label, EventSource.CI, "deploy", at, service, INFO, data)


def build(label: str, at: float, service: str, sha: str, status: str = "passed") -> Row:
    return (label, EventSource.CI, "build", at, service, INFO, {"commit": sha, "status": status})


def spike(label: str, at: float, service: str, severity: EventSeverity = H) -> Row:
    data = {"errors_at_onset": 120, "baseline_per_minute": 2}
    return (label, EventSource.LOGS, "error_spike", at, service, severity, data)


def anomaly(label: str, at: float, service: str, metric: str, severity: EventSeverity = M) -> Row:
    return (label, EventSource.METRICS, "metric_anomaly", at, service, severity, {"metric": metric})


def shipped(label: str, at: float, service: str, files: list[str], **kw: Any) -> list[Row]:
    """A commit, its passing build four minutes later, and its deploy (``deploy_after`` min)."""
    after = kw.pop("deploy_after", 12)
    env = kw.pop("env", "production")
    status = kw.pop("status", "succeeded")
    sha = f"{label}0000000"
    return [
        commit(f"{label}:commit", at, service, files, sha=sha, **kw),
        build(f"{label}:build", at + 4, service, sha),
        deploy(f"{label}:deploy", at + after, service, sha, env=env, status=status),
    ]


def noise(sc: Scenario, rng: random.Random) -> list[Row]:
    """Background over the three days before detection (and the hour after)."""
    rows: list[Row] = []
    story_times = [r[3] for r in sc.story]
    lo, hi = min(story_times) - 180, max(story_times) + 120
    for n in range(rng.randint(25, 40)):
        at = rng.uniform(-72 * 60, 60)
        svc = rng.choice(SERVICES)
        if svc in (sc.service, sc.quiet_service) and lo <= at <= hi:
            svc = "notifications" if svc != "notifications" else "search"
        kind = rng.random()
        if kind < 0.55:
            files = [f"{svc}/{rng.choice(['client.py', 'models.py', 'tests/test_api.py'])}"]
            label = f"noise{n}"
            sha = f"{label}0000000"
            rows.append(commit(f"{label}:commit", at, svc, files, sha=sha))
            rows.append(
                build(f"{label}:build", at + 4, svc, sha, rng.choice(["passed"] * 4 + ["failed"]))
            )
            if rng.random() < 0.4:
                env = rng.choice(["production", "production", "staging"])
                rows.append(deploy(f"{label}:deploy", at + 10, svc, sha, env=env))
        elif kind < 0.8:
            rows.append(spike(f"blip{n}", at, svc, L))
        else:
            rows.append(anomaly(f"blip{n}", at, svc, "latency_p95_ms", L))
    if sc.noisy:
        for n in range(12):
            svc = rng.choice([s for s in SERVICES if s not in (sc.service, sc.quiet_service)])
            at = rng.uniform(-60, 10)
            sha = f"burst{n}0000000"
            rows.append(commit(f"burst{n}:commit", at - 15, svc, [f"{svc}/handlers.py"], sha=sha))
            rows.append(build(f"burst{n}:build", at - 10, svc, sha))
            rows.append(deploy(f"burst{n}:deploy", at, svc, sha))
    return rows


SCENARIOS = [
    Scenario(
        "bad checkout deploy in a busy hour",
        "checkout",
        {"cart:commit", "cart:deploy"},
        [
            *shipped("cart", -40, "checkout", ["checkout/cart.py"]),
            *shipped("older", -6 * 60, "checkout", ["checkout/ui.py"]),
            build("pr-build", -10, "checkout", "pr00000000"),
            spike("spike", -6, "checkout"),
            spike("spike2", 2, "checkout", C),
        ],
        noisy=True,
    ),
    Scenario(
        "failed payments deploy half rolled out",
        "payments-api",
        {"fees:commit", "fees:deploy"},
        [
            *shipped("fees", -35, "payments-api", ["payments-api/fees.py"], status="failed"),
            *shipped("docs", -55, "payments-api", DOC_FILES),
            build("later-build", -8, "payments-api", "x0000000"),
            spike("spike", -4, "payments-api"),
        ],
    ),
    Scenario(
        "checkout breaks because payments broke first",
        "checkout",
        {"pay:commit", "pay:deploy"},
        [
            *shipped("pay", -50, "payments-api", ["payments-api/client.py"]),
            *shipped("co", -3 * 60, "checkout", ["checkout/views.py"]),
            commit("co-late", -2 * 60, "checkout", ["checkout/forms.py"]),
            spike("pay-spike", -20, "payments-api"),
            spike("co-spike", -10, "checkout"),
        ],
        deps={"checkout": ["payments-api", "search"]},
    ),
    Scenario(
        "a database two hops away",
        "checkout",
        {"db:commit", "db:deploy"},
        [
            *shipped("db", -60, "ledger", ["ledger/pool.yaml"]),
            *shipped("co", -90, "checkout", ["checkout/api.py"]),
            anomaly("db-anomaly", -30, "ledger", "connections_in_use", H),
            spike("pay-spike", -18, "payments-api"),
            spike("co-spike", -9, "checkout"),
        ],
        deps={"checkout": ["payments-api"], "payments-api": ["ledger"]},
    ),
    Scenario(
        "detected three hours after the errors began",
        "search",
        {"idx:commit", "idx:deploy"},
        [
            *shipped("idx", -3 * 60 - 40, "search", ["search/indexer.py"]),
            *shipped("after", -60, "search", ["search/ranking.py"]),
            spike("first", -3 * 60, "search", M),
            spike("again", -2 * 60 - 10, "search", M),
            spike("still", -80, "search", M),
            spike("now", -5, "search", H),
        ],
        quiet_service="search",
    ),
    Scenario(
        "staging deploy closer than the production one",
        "auth",
        {"tok:commit", "tok:deploy"},
        [
            *shipped("tok", -45, "auth", ["auth/tokens.py"]),
            *shipped("stage", -20, "auth", ["auth/session.py"], env="staging"),
            spike("spike", -8, "auth"),
        ],
    ),
    Scenario(
        "canary only versus the full rollout",
        "inventory",
        {"stock:commit", "stock:deploy"},
        [
            *shipped("stock", -50, "inventory", ["inventory/stock.py"]),
            *shipped("canary", -22, "inventory", ["inventory/cache.py"], env="canary"),
            anomaly("lat", -10, "inventory", "latency_p99_ms", H),
        ],
    ),
    Scenario(
        "a limit changed in the configuration repository",
        "auth",
        {"limits:commit", "limits:deploy"},
        [
            commit(
                "limits:commit",
                -40,
                "platform-config",
                ["auth/limits.yaml"],
                sha="limits0000000",
                repo="acme/platform-config",
            ),
            deploy("limits:deploy", -30, "platform-config", "limits0000000"),
            *shipped("ui", -4 * 60, "auth", ["auth/login.py"]),
            build("auth-build", -12, "auth", "y0000000"),
            spike("429s", -15, "auth"),
        ],
        paths=[("acme/platform-config/auth/", "auth")],
    ),
    Scenario(
        "a monorepo commit deployed as one service",
        "search",
        {"rank:commit", "rank:deploy"},
        [
            commit("rank:commit", -45, None, ["services/search/ranker.py"], sha="rank0000000"),
            build("rank:build", -41, "search", "rank0000000"),
            deploy("rank:deploy", -33, "search", "rank0000000"),
            commit("other", -25, None, ["services/auth/login.py"], sha="oth0000000"),
            commit("tests", -15, None, ["services/search/tests/test_ranker.py"]),
            spike("spike", -12, "search"),
        ],
        paths=[("services/search/", "search"), ("services/auth/", "auth")],
    ),
    Scenario(
        "a slow memory leak that began two days earlier",
        "inventory",
        {"leak:commit", "leak:deploy"},
        [
            *shipped("leak", -68 * 60, "inventory", ["inventory/cache.py"]),
            *[
                anomaly(f"mem{h}", -h * 60 - 5, "inventory", "memory_rss_mb")
                for h in range(20, 0, -1)
            ],
            *shipped("late", -10 * 60, "inventory", ["inventory/api.py"]),
            *shipped("later", -5 * 60, "inventory", ["inventory/jobs.py"]),
            spike("oom", -2, "inventory", C),
        ],
        quiet_service="inventory",
    ),
    Scenario(
        "nobody named a service",
        None,
        {"q:commit", "q:deploy"},
        [
            *shipped("q", -30, "search", ["search/query.py"]),
            *shipped("mail", -12, "notifications", ["notifications/mail.py"]),
            *shipped("co", -60, "checkout", ["checkout/api.py"]),
            spike("search-first", -8, "search"),
            spike("checkout-next", -2, "checkout"),
        ],
        deps={"checkout": ["search"]},
        quiet_service="search",
    ),
    Scenario(
        "the nearest deploy only shipped documentation",
        "auth",
        {"mfa:commit", "mfa:deploy"},
        [
            *shipped("mfa", -50, "auth", ["auth/mfa.py"]),
            *shipped("docs", -25, "auth", DOC_FILES),
            spike("spike", -10, "auth"),
        ],
    ),
    Scenario(
        "a quiet night with one change",
        "notifications",
        {"push:commit", "push:deploy"},
        [
            *shipped("push", -3 * 60, "notifications", ["notifications/push.py"]),
            anomaly("blip", -5 * 60, "notifications", "queue_depth", L),
            spike("spike", -60, "notifications", M),
            spike("spike2", -20, "notifications", H),
        ],
        quiet_service="notifications",
    ),
    Scenario(
        "a deploy rolled back, then the errors",
        "notifications",
        {"tmpl:commit", "tmpl:deploy"},
        [
            *shipped(
                "tmpl", -30, "notifications", ["notifications/templates.py"], status="rolled_back"
            ),
            *shipped("old", -3 * 60, "notifications", ["notifications/queue.py"]),
            build("build", -6, "notifications", "z0000000"),
            spike("spike", -5, "notifications"),
        ],
    ),
    Scenario(
        "one dependency with errors of its own, one without",
        "checkout",
        {"cap:commit", "cap:deploy"},
        [
            *shipped("cap", -40, "payments-api", ["payments-api/capture.py"]),
            *shipped("syn", -20, "search", ["search/synonyms.py"]),
            spike("pay", -15, "payments-api"),
            spike("co", -7, "checkout"),
        ],
        deps={"checkout": ["payments-api", "search"]},
    ),
    Scenario(
        "only git is connected",
        "auth",
        {"jwt:commit"},
        [
            commit("jwt:commit", -30, "auth", ["auth/jwt.py"]),
            commit("readme", -10, "auth", ["README.md"]),
            commit("ci", -50, "auth", ["auth/tests/test_jwt.py"]),
            spike("spike", -5, "auth"),
        ],
        quiet_service="auth",
    ),
    Scenario(
        "reported by a person, no error signal yet",
        "inventory",
        {"sync:commit", "sync:deploy"},
        [
            *shipped("sync", -40, "inventory", ["inventory/sync.py"]),
            *shipped("bump", -5 * 60, "inventory", ["inventory/deps.txt"]),
            build("pr", -15, "inventory", "w0000000"),
        ],
    ),
    Scenario(
        "the culprit rode along with a later chore",
        "search",
        {"facet:commit", "chore:deploy"},
        [
            *shipped("prev", -6 * 60, "search", ["search/api.py"]),
            commit("facet:commit", -4 * 60, "search", ["search/facets.py"]),
            commit("chore:commit", -60, "search", ["search/logging.py"], sha="chore0000000"),
            build("chore:build", -56, "search", "chore0000000"),
            deploy("chore:deploy", -35, "search", "chore0000000"),
            spike("spike", -14, "search"),
        ],
        quiet_service="search",
    ),
    Scenario(
        "a rate limiter switched to the wrong key, found by partners",
        "auth",
        {"limit:commit", "limit:deploy"},
        [
            *shipped("limit", -70, "auth", ["rate-limiter/config.py", "rate-limiter/client.py"]),
            *shipped("chore", -9 * 60, "auth", ["rate-limiter/settings.yaml"]),
            build("retry", -30, "auth", "chore0000000"),
            spike("429", -4, "auth", M),
            anomaly("gw", -2, "auth", "gateway_429_rate", H),
        ],
        component="rate-limiter",
    ),
    Scenario(
        "two code deploys minutes apart, the earlier one broke it",
        "checkout",
        {"tax:commit", "tax:deploy"},
        [
            *shipped("tax", -45, "checkout", ["checkout/tax.py"]),
            *shipped("rename", -30, "checkout", ["checkout/naming.py"]),
            spike("spike", -12, "checkout"),
        ],
        quiet_service="checkout",
    ),
    Scenario(
        "the dependency's errors show up after the caller's",
        "checkout",
        {"auth:commit", "auth:deploy"},
        [
            *shipped("auth", -40, "payments-api", ["payments-api/auth.py"]),
            *shipped("co", -3 * 60, "checkout", ["checkout/cart.py"]),
            spike("co-spike", -10, "checkout"),
            spike("pay-spike", -4, "payments-api", M),
        ],
        deps={"checkout": ["payments-api"]},
    ),
]

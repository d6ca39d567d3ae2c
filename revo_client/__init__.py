"""A small typed client for Revo's agent gateway (HTTP API v1). Depends on httpx only.

client = RevoClient("http://localhost:8501", token="revo_…")
decision = client.submit_and_wait(Action(title="Merge PR 42", data={"pr": 42}), key="pr-42")
if decision.approved:
    ...  # do it, with decision.payload (the reviewer may have edited it)
    client.report(decision.id, executed=True)
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, ParamSpec, TypeVar

import httpx

P = ParamSpec("P")
R = TypeVar("R")
Display = Literal["text", "key_value", "diff", "email"]
FINAL = {"approved", "rejected", "expired", "executed", "failed"}


class RevoError(Exception):
    """A problem+json answer from the API."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', '')}")


class NotApproved(Exception):
    """The reviewer rejected the action, or nobody decided before it expired."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        why = decision.reason_code or decision.status
        super().__init__(f"review #{decision.id} {decision.status}: {why} {decision.comment or ''}")


@dataclass(frozen=True)
class Action:
    title: str
    summary: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    display: Display = "text"
    amount: float | None = None
    risk: Literal["low", "medium", "high"] = "low"
    subject_type: str = "external"
    subject_id: str = ""
    triggered_by: str | None = None
    callback_url: str | None = None


@dataclass(frozen=True)
class Decision:
    id: int
    status: str
    payload: dict[str, Any]
    edited: bool
    decided_by: str | None
    reason_code: str | None
    comment: str | None
    raw: dict[str, Any]

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    @property
    def data(self) -> dict[str, Any]:
        """The action's data as approved (with the reviewer's edits)."""
        value = self.payload.get("data", {})
        return value if isinstance(value, dict) else {}

    @classmethod
    def of(cls, body: dict[str, Any]) -> Decision:
        return cls(
            id=body["id"],
            status=body["status"],
            payload=body.get("payload") or {},
            edited=bool(body.get("edited")),
            decided_by=body.get("decided_by"),
            reason_code=body.get("reason_code"),
            comment=body.get("comment"),
            raw=body,
        )


class RevoClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RevoClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        for attempt in range(5):
            r = self._http.request(method, url, **kw)
            if r.status_code == 429 and attempt < 4:
                time.sleep(min(float(r.headers.get("Retry-After", "1")), 30))
                continue
            if r.status_code >= 400:
                try:
                    problem = r.json()
                except ValueError:
                    problem = {"title": r.reason_phrase, "detail": r.text[:500]}
                raise RevoError(r.status_code, problem)
            body: dict[str, Any] = r.json()
            return body
        raise AssertionError("unreachable")

    def submit(self, action: Action, *, key: str | None = None) -> Decision:
        """Hold the action for review (the same key returns the same item)."""
        body = {
            "kind": "action",
            "subject": {
                "type": action.subject_type,
                "id": action.subject_id or "0",
                "label": action.title,
            },
            "action": {
                "title": action.title,
                "summary": action.summary,
                "data": action.data,
                "display": action.display,
            },
            "amount": action.amount,
            "risk": action.risk,
            "triggered_by": action.triggered_by,
            "callback_url": action.callback_url,
        }
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        return Decision.of(self._call("POST", "/reviews", json=body, headers=headers))

    def get(self, review_id: int, *, wait: float = 0) -> Decision:
        """The review's state; with ``wait`` seconds, as soon as it is decided."""
        params = {"wait": wait} if wait else None
        return Decision.of(
            self._call("GET", f"/reviews/{review_id}", params=params, timeout=wait + 30)
        )

    def wait(self, review_id: int, *, timeout: float = 3600, poll: float = 60) -> Decision:
        """Long-poll until the review is decided or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            decision = self.get(review_id, wait=max(0.0, min(poll, left)))
            if decision.status in FINAL or left <= 0:
                return decision

    def submit_and_wait(
        self, action: Action, *, key: str | None = None, timeout: float = 3600
    ) -> Decision:
        """Submit the action and return the person's decision."""
        return self.wait(self.submit(action, key=key).id, timeout=timeout)

    def report(self, review_id: int, *, executed: bool, detail: str = "") -> Decision:
        """Tell Revo the approved action was carried out (or failed)."""
        body = {"outcome": "executed" if executed else "failed", "detail": detail[:4000]}
        return Decision.of(self._call("POST", f"/reviews/{review_id}/execution", json=body))


def require_approval(
    client: RevoClient,
    *,
    title: str | Callable[..., str],
    display: Display = "key_value",
    timeout: float = 3600,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Hold every call of the function for a person's approval; run it with the approved args.

    The call's keyword arguments are the action's data; a reviewer's edits replace them. A
    rejection or expiry raises NotApproved; the outcome is reported back either way.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            label = title(*args, **kwargs) if callable(title) else title
            action = Action(
                title=label,
                data=dict(kwargs),
                display=display,
                summary=f"{fn.__module__}.{fn.__qualname__}",
            )
            decision = client.submit_and_wait(action, timeout=timeout)
            if not decision.approved:
                raise NotApproved(decision)
            try:
                result = fn(*args, **decision.data)  # type: ignore[arg-type]
            except Exception as exc:
                client.report(decision.id, executed=False, detail=str(exc))
                raise
            client.report(decision.id, executed=True)
            return result

        return wrapper

    return decorate


def callback_secret(token: str) -> str:
    """The Standard Webhooks secret (``whsec_…``) the console signs this token's callbacks with:
    the SHA-256 of the token itself, so only the agent holding the token can check them."""
    return "whsec_" + base64.b64encode(hashlib.sha256(token.encode()).digest()).decode()


def verify_callback(token: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether a callback POST (headers lower-cased) was signed by the console for this token."""
    key = hashlib.sha256(token.encode()).digest()
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in headers.get("webhook-signature", "").split() if "," in s]
    return any(hmac.compare_digest(expected, sig) for sig in offered)

"""An example external agent: it wants to refund a customer and waits for a person to approve.

    export REVO_URL=http://localhost:8501 REVO_TOKEN=revo_…   # a token with reviews:submit+read
    uv run python examples/agent.py

Approve or edit the refund in the console's review queue; the agent then "refunds" the approved
amount and reports back, so the item shows as executed.
"""

from __future__ import annotations

import os
import sys

from revo_client import NotApproved, RevoClient, require_approval

client = RevoClient(
    os.environ.get("REVO_URL", "http://localhost:8501"), token=os.environ["REVO_TOKEN"]
)


@require_approval(client, title=lambda **kw: f"Refund {kw['amount']} EUR to {kw['customer']}")
def refund(*, customer: str, amount: float, reason: str) -> str:
    # A real agent would call the payment provider here.
    return f"refunded {amount} EUR to {customer} ({reason})"


if __name__ == "__main__":
    try:
        print(refund(customer="ada@example.test", amount=49.0, reason="double charge"))
    except NotApproved as exc:
        print(f"not done: {exc}", file=sys.stderr)
        sys.exit(1)

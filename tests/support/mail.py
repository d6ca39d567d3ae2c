"""An SMTP handler for aiosmtpd that keeps what it accepts."""

from __future__ import annotations

from typing import Any


class Mailbox:
    """An SMTP handler that keeps what it accepts, or refuses everything while ``refuse`` is set."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "550 5.7.1 Message rejected by policy"
        self.messages.append(envelope)
        return "250 OK"

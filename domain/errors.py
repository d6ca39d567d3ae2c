"""The one base of the errors domain rules raise (the unit of work makes service errors of them)."""

from __future__ import annotations

from typing import ClassVar, Literal

Category = Literal["transition", "policy"]


class DomainError(Exception):
    """A rule of the domain refused a change. The message is written for people.

    ``category`` says which service error it stands for (``services.uow.translate``).
    """

    category: ClassVar[Category] = "transition"

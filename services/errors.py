"""The one error hierarchy that services raise and pages catch. Messages are for people."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a page may show. `message` is written for the person at the screen."""

    title = "Something went wrong"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    title = "Not found"


class PermissionDenied(ServiceError):
    title = "Not allowed"


class Conflict(ServiceError):
    title = "Changed by someone else"


class InvalidTransition(ServiceError):
    title = "Not possible in this state"


class PolicyRefused(ServiceError):
    """A tenant policy refused the decision; ``rule`` names which one."""

    title = "Refused by policy"

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class InvalidInput(ServiceError):
    title = "Please check your input"


class LLMError(ServiceError):
    """The language model could not produce a usable answer."""

    title = "Language model error"


class LLMUnavailable(LLMError):
    title = "Language model unavailable"


class LLMTimeout(LLMUnavailable):
    title = "Language model too slow"


class LLMInvalidOutput(LLMError):
    title = "Language model answer unusable"


class DatabaseUnavailable(ServiceError):
    title = "Database unavailable"


class InvalidSettings(ServiceError):
    """A REVO_* setting (environment or .env file) is malformed."""

    title = "Bad setting"

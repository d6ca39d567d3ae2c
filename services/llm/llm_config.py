"""The LLM client's settings: one frozen value per model server and model (a cache key)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import LLMMode
from services.config import get_settings


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str
    mode: LLMMode = LLMMode.JSON_SCHEMA
    timeout_s: float = 60.0
    max_reasks: int = 2
    transport_attempts: int = 3
    deadline_s: float = 180.0
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0
    keep_alive: str = "5m"  # how long Ollama keeps a model the client pre-loads

    @classmethod
    def from_settings(cls) -> LLMConfig:
        s = get_settings()
        return cls(
            base_url=s.llm_base_url,
            model=s.llm_model,
            mode=LLMMode(s.llm_mode),
            timeout_s=s.llm_timeout_s,
            max_reasks=s.llm_max_reasks,
            transport_attempts=s.llm_transport_attempts,
            deadline_s=s.llm_deadline_s,
            breaker_failures=s.llm_breaker_failures,
            breaker_cooldown_s=s.llm_breaker_cooldown_s,
            keep_alive=s.llm_keep_alive,
        )

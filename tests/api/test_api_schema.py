"""Schemathesis against our OpenAPI spec: generated requests never get a 500, and what is
documented is what is answered. A few endpoints, a few dozen examples each, in-process (ASGI)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from api import create_app
from domain.enums import Role
from services import api_tokens, db, migrate
from services.api_tokens import ApiTokenCreate, Scope
from services.tenants import create_tenant_with_users

schema = schemathesis.openapi.from_asgi("/v1/openapi.json", create_app())
SOME = schema.include(path_regex=r"^/v1/(reviews(/\{item_id\})?|runs|investigations)$")


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('schema')) / 'api.db'}"
    migrate.upgrade(url)
    db.configure(url)
    tenant = create_tenant_with_users(slug="fuzz", name="Fuzz Ltd", email_domain="fuzz.test")
    return api_tokens.create_token(
        actor=tenant.actor(Role.ADMIN),
        token_in=ApiTokenCreate(name="fuzz", scopes=list(Scope), rate_limit_per_minute=100_000),
    ).secret


@SOME.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_generated_requests_never_crash_and_match_the_spec(case: Case, secret: str) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {secret}"}
    if case.query and "wait" in case.query:
        case.query["wait"] = 0  # a long-poll would only make the run slow
    case.call_and_validate(
        checks=[not_a_server_error, content_type_conformance, response_schema_conformance]
    )

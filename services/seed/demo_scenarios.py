"""Incident stories for the demo investigations: what broke, why, and what the signals said."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    title: str
    service: str
    component: str
    description: str
    root_cause: str
    remediation: str
    lessons: str
    tags: tuple[str, ...]
    commit: str  # message of the change that caused it
    error: str  # the log line that spiked
    metric: str  # the metric that went anomalous
    span: str  # the span that got slow


SCENARIOS = (
    Scenario(
        title="Checkout returns 502 after cart-service deploy",
        service="checkout",
        component="cart-service",
        description="Roughly 18% of checkout attempts fail with 502 from the gateway since 14:05.",
        root_cause="A config refactor lowered the DB connection pool from 50 to 5; under lunch "
        "traffic requests queued until the gateway timed out.",
        remediation="Rolled back to v2.41.3, then restored pool_size=50 with a config test.",
        lessons="Config changes need the same load test as code changes.",
        tags=("deploy", "database", "customer-facing"),
        commit="Refactor cart-service settings into typed config",
        error="sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 0 reached",
        metric="http_server_errors_5xx_rate",
        span="POST /checkout/confirm",
    ),
    Scenario(
        title="Payment confirmations delayed by 4-6 minutes",
        service="payments-api",
        component="webhook-consumer",
        description="Customers see 'payment pending' long after the PSP confirmed the charge.",
        root_cause="After a Redis failover the webhook consumer kept a stale connection and "
        "only drained the queue on its 5-minute reconnect timer.",
        remediation="Enabled client-side health checks and reconnect-on-error in the consumer.",
        lessons="Failover drills must include every Redis client, not just the API.",
        tags=("redis", "queue", "payments"),
        commit="Bump redis-py to 5.1 and reuse the connection pool across workers",
        error="redis.exceptions.ConnectionError: Connection closed by server",
        metric="webhook_queue_depth",
        span="consume payment_intent.succeeded",
    ),
    Scenario(
        title="Search results missing products added since Monday",
        service="search",
        component="indexer",
        description="New catalogue items do not show up in search; category pages are fine.",
        root_cause="The nightly reindex job was OOM-killed after the catalogue passed 2M items; "
        "the job reported success because the exit code was swallowed by the wrapper.",
        remediation="Streamed the reindex in batches of 50k and made the wrapper propagate exits.",
        lessons="Batch jobs need a freshness metric, not just a success flag.",
        tags=("batch", "memory", "data-freshness"),
        commit="Load full catalogue snapshot in memory for faster reindex",
        error="indexer exited with signal 9 (OOMKilled)",
        metric="search_index_freshness_seconds",
        span="GET /search",
    ),
    Scenario(
        title="Spike in 401s on the mobile app",
        service="auth",
        component="token-service",
        description="Android users are logged out repeatedly; iOS is unaffected.",
        root_cause="JWT signing key rotated without publishing the new key to the JWKS cache "
        "used by the Android SDK, which caches for 24 h.",
        remediation="Published both keys during rotation and cut JWKS cache TTL to 10 minutes.",
        lessons="Key rotation needs an overlap window longer than any client cache.",
        tags=("auth", "mobile", "key-rotation"),
        commit="Rotate JWT signing key (kid 2026-11) and drop legacy key",
        error="jwt.exceptions.InvalidSignatureError: Signature verification failed",
        metric="auth_401_rate",
        span="POST /oauth/token",
    ),
    Scenario(
        title="Dunning emails queued but never sent",
        service="notifications",
        component="email-worker",
        description="Finance reports that no payment reminders went out since Thursday.",
        root_cause="The SMTP relay password expired; the worker retried silently forever.",
        remediation="Rotated the credential and alert on consecutive SMTP auth failures.",
        lessons="Retries without an alert turn an outage into silence.",
        tags=("smtp", "credentials", "finance"),
        commit="Move SMTP credentials to the secrets manager",
        error="smtplib.SMTPAuthenticationError: (535, b'5.7.8 Authentication failed')",
        metric="email_queue_age_seconds",
        span="send dunning_notice",
    ),
    Scenario(
        title="Stock levels drift from ERP by a few percent",
        service="inventory",
        component="stock-sync",
        description="Warehouse counts disagree with the ERP every morning; fixed by full resync.",
        root_cause="The delta sync compared local timestamps with UTC ones and skipped changes "
        "made in the first hour after midnight.",
        remediation="Store and compare all sync cursors as aware UTC timestamps.",
        lessons="Every timestamp crossing a boundary must carry its zone.",
        tags=("timezone", "sync", "data-quality"),
        commit="Use local warehouse time for delta sync cursor",
        error="stock-sync: 312 SKUs differ from ERP snapshot",
        metric="stock_sync_diff_skus",
        span="sync delta batch",
    ),
    Scenario(
        title="Payment authorisation p99 above 2 s",
        service="payments-api",
        component="fraud-scorer",
        description="Authorisation latency p99 went from 600 ms to 2.3 s; conversion dipped 1.4%.",
        root_cause="A new fraud feature called the geo-IP service synchronously per request.",
        remediation="Cached geo-IP lookups for 1 h and moved the call off the hot path.",
        lessons="New features on the payment path need a latency budget review.",
        tags=("latency", "payments", "third-party"),
        commit="Add geo-IP distance feature to fraud scoring",
        error="fraud-scorer: geoip lookup exceeded 800ms",
        metric="payment_authorize_latency_p99_ms",
        span="POST /payments/authorize",
    ),
    Scenario(
        title="Elevated 5xx on search autocomplete",
        service="search",
        component="query-api",
        description="Autocomplete fails intermittently; about 3% of keystrokes get a 503.",
        root_cause="The autoscaler's max replicas was still at the pre-sale value of 4.",
        remediation="Raised max replicas to 12 and added a saturation alert.",
        lessons="Capacity settings belong in the sale-readiness checklist.",
        tags=("capacity", "autoscaling"),
        commit="Tune query-api HPA thresholds",
        error="upstream connect error or disconnect/reset before headers",
        metric="query_api_cpu_saturation",
        span="GET /autocomplete",
    ),
    Scenario(
        title="Wrong discount applied to EUR carts",
        service="checkout",
        component="pricing",
        description="EUR carts get the USD promotion rate; a few hundred orders affected.",
        root_cause="A currency lookup fell back to the default region when the header was "
        "missing behind the new CDN.",
        remediation="Derive currency from the cart, never from request headers.",
        lessons="Money decisions must not depend on infrastructure headers.",
        tags=("pricing", "cdn", "money"),
        commit="Read region from CDN header X-Geo-Region",
        error="pricing: region header missing, falling back to US",
        metric="promo_discount_eur_ratio",
        span="POST /cart/price",
    ),
    Scenario(
        title="Partner API throttled unexpectedly",
        service="auth",
        component="rate-limiter",
        description="Two logistics partners receive 429s well below their contracted limits.",
        root_cause="The rate limiter keyed on source IP, and both partners share a NAT egress.",
        remediation="Key limits on the API client id instead of the IP address.",
        lessons="Limits must follow the contract's unit (client), not the network's.",
        tags=("rate-limit", "partners"),
        commit="Switch rate limiter to sliding window keyed by remote addr",
        error="429 Too Many Requests for client partner-eu-2",
        metric="gateway_429_rate",
        span="POST /partner/v1/shipments",
    ),
)

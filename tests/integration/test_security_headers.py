"""The served console sends its security headers over real HTTP(S) and keeps XSRF protection."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.console import running_console


def _get(url: str) -> tuple[int, dict[str, str]]:
    context = ssl._create_unverified_context()
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def http_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("headers")
    env = {"REVO_DATABASE_URL": f"sqlite:///{workdir / 'revo.db'}", "REVO_AUTH_MODE": "disabled"}
    with running_console(workdir, env) as url:
        yield url


@pytest.mark.parametrize("path", ["/", "/_stcore/health", "/no-such-page"])
def test_every_response_carries_the_security_headers(http_console: str, path: str) -> None:
    _status, headers = _get(http_console + path)
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert "'unsafe-eval'" not in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in headers  # plain http: HSTS would be ignored


def test_xsrf_protection_stays_on(http_console: str) -> None:
    _status, headers = _get(http_console + "/_stcore/health")
    assert "_streamlit_xsrf" in headers.get("set-cookie", "")
    request = urllib.request.Request(
        http_console + "/_stcore/upload_file/some-session/some-file", data=b"x", method="PUT"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


def test_hsts_is_sent_when_the_console_is_served_over_https(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    env = {"REVO_DATABASE_URL": f"sqlite:///{tmp_path / 'revo.db'}", "REVO_AUTH_MODE": "disabled"}
    args = ["--server.sslCertFile", str(cert), "--server.sslKeyFile", str(key)]
    with running_console(tmp_path, env, args=args, scheme="https") as url:
        _status, headers = _get(url + "/")
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_the_console_serves_the_agent_api_and_the_operations_endpoints_on_its_own_port(
    http_console: str,
) -> None:
    with urllib.request.urlopen(http_console + "/api/v1/openapi.json", timeout=10) as resp:
        spec = json.loads(resp.read())
    assert resp.status == 200 and "/v1/reviews" in spec["paths"]
    status, headers = _get(http_console + "/api/v1/reviews/1")
    assert status == 401 and headers["content-type"].startswith("application/problem+json")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    with urllib.request.urlopen(http_console + "/healthz", timeout=10) as resp:
        assert resp.status == 200

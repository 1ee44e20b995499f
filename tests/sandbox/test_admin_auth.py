"""The admin API's authentication: the admin bearer token only, compared in
constant time; merchant credentials never work; every refusal is a 401 in
the TMS envelope that does not echo what was sent."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from opentms.client import ASGIAppTransport
from tests.support import Merchant

STATUS = "http://testserver/opentms/v1/sandbox"


def _get(
    app: Starlette, headers: list[tuple[str, str]], auth: httpx.Auth | None = None
) -> httpx.Response:
    with httpx.Client(transport=ASGIAppTransport(app)) as client:
        return client.get(STATUS, headers=headers, auth=auth)


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    error = response.json()["errors"][0]
    assert error["type"] == "authenticationFailed"
    assert "Bearer <admin token>" in error["message"]


def test_the_admin_token_opens_the_api(sandbox_app: Starlette, admin_token: str) -> None:
    response = _get(sandbox_app, [("authorization", f"Bearer {admin_token}")])
    assert response.status_code == 200
    assert response.json()["mode"] == "sandbox"


def test_the_scheme_is_case_insensitive(sandbox_app: Starlette, admin_token: str) -> None:
    assert _get(sandbox_app, [("Authorization", f"bearer {admin_token}")]).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("authorization", "Bearer")],
        [("authorization", "Bearer ")],
        [("authorization", "Bearer wrong-token-of-some-length")],
        [("authorization", "Basic {token}")],
        [("authorization", "{token}")],
        [("authorization", "Bearer {token}x")],
        [("authorization", "Bearer {token_prefix}")],
        [("authorization", "Bearer {token}"), ("authorization", "Bearer {token}")],
        [("x-admin-token", "{token}")],
    ],
    ids=[
        "none",
        "scheme-only",
        "empty",
        "wrong",
        "basic",
        "no-scheme",
        "longer",
        "prefix",
        "twice",
        "other-header",
    ],
)
def test_anything_but_the_token_is_refused(
    sandbox_app: Starlette, admin_token: str, headers: list[tuple[str, str]]
) -> None:
    values = {"token": admin_token, "token_prefix": admin_token[:-1]}
    response = _get(sandbox_app, [(name, value.format(**values)) for name, value in headers])
    _refused(response)
    assert admin_token not in response.text


@pytest.mark.parametrize("mode", ["signature", "jwt", "hs256"])
def test_merchant_credentials_never_work(
    sandbox_app: Starlette, sandbox_merchant: Merchant, mode: str
) -> None:
    _refused(_get(sandbox_app, [], auth=sandbox_merchant.auth(mode)))


def test_a_refused_call_changes_nothing(sandbox_app: Starlette, admin_token: str) -> None:
    with httpx.Client(transport=ASGIAppTransport(sandbox_app)) as client:
        refused = client.post(
            f"{STATUS}/clock",
            json={"advance": 86_400},
            headers={"authorization": "Bearer not-the-token-at-all"},
        )
        _refused(refused)
        reading = client.get(
            f"{STATUS}/clock", headers={"authorization": f"Bearer {admin_token}"}
        ).json()
    assert reading["offsetSeconds"] == 0.0


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.binary(max_size=200))
def test_no_authorization_value_but_the_token_opens_the_api(
    sandbox_app: Starlette, admin_token: str, value: bytes
) -> None:
    """Arbitrary bytes (any scheme, separators, control characters) never
    pass, and never make the server fail."""
    if value.strip().endswith(admin_token.encode()):
        return
    header = value.replace(b"\r", b"").replace(b"\n", b"")
    with httpx.Client(transport=ASGIAppTransport(sandbox_app)) as client:
        response = client.get(STATUS, headers=[(b"authorization", header)])
    assert response.status_code == 401


def test_the_token_file_is_private(sandbox_services: object) -> None:
    settings_ = sandbox_services.settings  # type: ignore[attr-defined]
    path = settings_.admin_token_file
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(path.read_text().strip()) >= 32

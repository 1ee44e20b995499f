"""The service clock: read, advanced, set and reset through the admin API;
authentication keeps real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.tokens_support import (
    VISA,
    authorize,
    create_ii,
    credentials_path,
    declined,
    get_token,
    issue,
    token_id_of,
)
from tests.support import Merchant


def _now(body: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(body["now"]))


@pytest.fixture(autouse=True)
def real_time(admin_client: httpx.Client) -> None:
    admin_client.delete("/clock").raise_for_status()


def test_the_clock_starts_at_real_time(admin_client: httpx.Client) -> None:
    body = admin_client.get("/clock").json()
    assert body["offsetSeconds"] == 0.0
    assert abs(_now(body) - datetime.now(UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("advance", "seconds"),
    [(86_400, 86_400), ("P30D", 30 * 86_400), ("PT2H30M", 9_000), ("-P1D", -86_400), (1.5, 1.5)],
)
def test_advance_moves_the_clock(
    admin_client: httpx.Client, advance: object, seconds: float
) -> None:
    response = admin_client.post("/clock", json={"advance": advance})
    assert response.status_code == 200
    assert response.json()["offsetSeconds"] == pytest.approx(seconds)
    assert admin_client.get("/clock").json()["offsetSeconds"] == pytest.approx(seconds)


def test_advances_add_up_and_delete_goes_back(admin_client: httpx.Client) -> None:
    admin_client.post("/clock", json={"advance": "P1D"})
    admin_client.post("/clock", json={"advance": "P1D"})
    assert admin_client.get("/clock").json()["offsetSeconds"] == 2 * 86_400
    assert admin_client.delete("/clock").json()["offsetSeconds"] == 0.0


def test_set_puts_the_clock_at_a_moment(admin_client: httpx.Client) -> None:
    body = admin_client.post("/clock", json={"set": "2031-01-01T00:00:00Z"}).json()
    assert abs(_now(body) - datetime(2031, 1, 1, tzinfo=UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"advance": 1, "set": "2031-01-01T00:00:00Z"},
        {"advance": "30 days"},
        {"advance": "P"},
        {"advance": "PT"},
        {"advance": True},
        {"advance": None},
        {"advance": 10**11},
        {"advance": "P99999D"},
        {"set": "2031-01-01T00:00:00"},
        {"set": "tomorrow"},
        {"set": 1},
    ],
)
def test_a_bad_move_is_a_400_that_changes_nothing(
    admin_client: httpx.Client, body: dict[str, object]
) -> None:
    response = admin_client.post("/clock", json=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["details"]
    assert admin_client.get("/clock").json()["offsetSeconds"] == 0.0


def test_payment_credentials_follow_the_clock_past_the_tokens_expiry(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    """The token's expiry is three years from provisioning by the service
    clock: moved past it, the network issues no credentials (403 saying so);
    back in real time, it does again."""
    ii = create_ii(sandbox_client, VISA.new_pan())
    token_id = token_id_of(ii)
    token = get_token(sandbox_client, token_id)
    month, year = int(token["expirationMonth"]), int(token["expirationYear"])
    assert sandbox_client.post(credentials_path(token_id), json={}).status_code == 201

    # The last day of the token's expiry month is still good...
    last_day = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC) - timedelta(days=1)
    admin_client.post("/clock", json={"set": last_day.isoformat()})
    assert sandbox_client.post(credentials_path(token_id), json={}).status_code == 201

    # ...the next month it has expired.
    admin_client.post("/clock", json={"advance": "P2D"})
    refused = sandbox_client.post(credentials_path(token_id), json={})
    assert refused.status_code == 403
    message = refused.json()["errors"][0]["message"]
    assert f"expired at the end of {token['expirationMonth']}/{year}" in message

    admin_client.delete("/clock")
    assert sandbox_client.post(credentials_path(token_id), json={}).status_code == 201


def test_new_tokens_take_their_expiry_from_the_service_clock(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    admin_client.post("/clock", json={"set": "2040-03-15T00:00:00Z"})
    token = get_token(sandbox_client, token_id_of(create_ii(sandbox_client, VISA.new_pan())))
    assert (token["expirationMonth"], token["expirationYear"]) == ("03", "2043")


def test_credentials_issued_before_the_expiry_are_declined_after_it(
    admin_client: httpx.Client, sandbox_client: httpx.Client, sandbox_merchant: Merchant
) -> None:
    """The authorisation simulator judges expiry by the service clock too."""
    ii = create_ii(sandbox_client, VISA.new_pan())
    tokenized = issue(sandbox_client, sandbox_merchant, ii["id"])["tokenizedCard"]
    admin_client.post("/clock", json={"advance": f"P{4 * 366}D"})
    assert authorize(sandbox_client, tokenized) == declined("TOKEN_EXPIRED", VISA)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.dictionaries(st.sampled_from(["advance", "set", "other"]), _JSON, max_size=3)
    | st.dictionaries(
        st.just("advance"),
        st.from_regex(r"-?P(\d{0,7}D)?(T(\d{0,8}H)?(\d{0,9}M)?(\d{0,12}S)?)?", fullmatch=True),
        min_size=1,
    )
)
def test_any_move_is_applied_whole_or_refused_whole(
    admin_client: httpx.Client, body: dict[str, object]
) -> None:
    """Arbitrary bodies: 200 with the offset the body asked for, or 400 naming
    a field with the clock unchanged; never a 500."""
    admin_client.delete("/clock")
    response = admin_client.post("/clock", json=body)
    assert response.status_code in (200, 400), response.text
    offset = admin_client.get("/clock").json()["offsetSeconds"]
    if response.status_code == 400:
        assert response.json()["errors"][0]["details"]
        assert offset == 0.0
    else:
        assert offset == response.json()["offsetSeconds"]
        assert abs(offset) <= 50 * 366 * 86_400

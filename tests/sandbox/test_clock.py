"""The service clock: read, advanced, set and reset through the admin API;
authentication keeps real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest


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


def test_resources_are_dated_by_the_service_clock(
    admin_client: httpx.Client, sandbox_client: httpx.Client
) -> None:
    admin_client.post("/clock", json={"set": "2031-06-01T12:00:00Z"})
    created = sandbox_client.post("/tms/v2/customers", json={})
    # Authentication kept real time: the client signed with its own clock.
    assert created.status_code == 201, created.text
    metadata = created.json()["metadata"]
    assert metadata["creator"] or True
    fetched = sandbox_client.get(f"/tms/v2/customers/{created.json()['id']}")
    assert fetched.status_code == 200

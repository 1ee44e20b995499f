"""What every TMS error response must look like (tms-api.md §4)."""

from __future__ import annotations

import httpx

from tests.api.factories import JSON


def assert_error(
    response: httpx.Response,
    status: int,
    error_type: str,
    *,
    field: str | None = None,
    location: str = "body",
    message: str | None = None,
) -> JSON:
    """Assert ``response`` is a TMS error envelope of ``status`` and type
    ``error_type`` (naming ``field`` at ``location`` in its details) and
    return its first error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("v-c-correlation-id")
    assert response.headers.get("uniqueTransactionID")
    body: JSON = response.json()
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors
    for error in errors:
        assert isinstance(error["type"], str)
        assert isinstance(error["message"], str)
        assert error["message"]
    first: JSON = errors[0]
    assert first["type"] == error_type, first
    if message is not None:
        assert first["message"] == message
    if field is not None:
        assert {"name": field, "location": location} in first.get("details", []), first
    return first

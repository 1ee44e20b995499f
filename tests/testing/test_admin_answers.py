"""What the admin API client makes of any answer: an error envelope's
message and fields, or a message of its own; never an exception of its own
(property tests over arbitrary bodies and statuses)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opentms.testing import AdminAPI, SandboxError
from opentms.testing._admin import ErrorBody, error_body

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
STATUSES = st.integers(min_value=400, max_value=599)


@given(status=STATUSES, body=st.binary(max_size=300))
def test_any_error_body_gives_a_message(status: int, body: bytes) -> None:
    error = error_body(httpx.Response(status, content=body))
    assert isinstance(error, ErrorBody)
    assert isinstance(error.message, str)
    assert error.message.strip()


@given(status=STATUSES, document=JSON)
def test_any_json_error_gives_a_message(status: int, document: Any) -> None:
    error = error_body(httpx.Response(status, json=document))
    assert isinstance(error.message, str)
    assert error.message.strip() or document["errors"][0]["message"] == error.message
    assert all(isinstance(name, str) for name in error.details)


@given(
    message=st.text(min_size=1),
    kind=st.text(min_size=1),
    names=st.lists(st.text(min_size=1), max_size=3),
)
def test_an_envelope_is_read_as_it_is(message: str, kind: str, names: list[str]) -> None:
    details = [{"name": name, "location": "body"} for name in names]
    document = {"errors": [{"type": kind, "message": message, "details": details}]}
    error = error_body(httpx.Response(400, json=document))
    assert error == ErrorBody(kind, message, tuple(names))


@pytest.mark.parametrize("body", [b"<html>hello</html>", b"{", b"\xff\xfe"])
def test_a_success_that_is_not_json_is_said_to_be_so(body: bytes) -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=body))
    admin = AdminAPI("http://example.test", "t" * 20, transport=transport)
    with admin, pytest.raises(SandboxError, match=r"is not JSON: is http://example\.test an"):
        admin.clock()


def test_a_204_is_none() -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(204))
    with AdminAPI("http://example.test", "t" * 20, transport=transport) as admin:
        assert admin.call("DELETE", "/journal") is None

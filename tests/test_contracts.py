"""Contracts between layers: every vault error has an HTTP mapping, the
client's public names are exported, the OpenAPI document covers every route."""

from __future__ import annotations

import httpx
import pytest

import opentms.client
from opentms.adapters.http.errors import ERROR_RESPONSES
from opentms.domain import errors


def _subclasses(cls: type[errors.VaultError]) -> set[type[errors.VaultError]]:
    found: set[type[errors.VaultError]] = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


def test_every_vault_error_is_mapped_to_a_status_and_type() -> None:
    unmapped = _subclasses(errors.VaultError) - set(ERROR_RESPONSES)
    assert not unmapped, f"add to ERROR_RESPONSES: {sorted(c.__name__ for c in unmapped)}"


@pytest.mark.parametrize(("error", "status"), [(cls, s) for cls, (s, _) in ERROR_RESPONSES.items()])
def test_client_errors_are_4xx_and_only_decryption_is_5xx(error: type, status: int) -> None:
    if error is errors.DecryptionFailed:
        assert status == 500
    elif error is errors.DatabaseUnavailable:
        assert status == 503
    else:
        assert 400 <= status < 500


def test_client_all_is_sorted_and_complete() -> None:
    # "@py_builtins" and "@pytest_ar": pytest rewrites the asserts of every
    # module of a distribution that has a pytest plugin (opentms.testing's),
    # opentms.client included, even with the plugin itself not loaded.
    public = {name for name in dir(opentms.client) if not name.startswith(("_", "@"))}
    exported = set(opentms.client.__all__)
    assert exported <= public
    assert sorted(opentms.client.__all__, key=str.lower) == opentms.client.__all__
    # webhooks: the public submodule (opentms.client.webhooks.verify), once imported.
    assert public - exported - {"annotations", "webhooks"} == set()


SANDBOX = "/opentms/v1/sandbox"
WEBHOOK_PREFIXES = ("/notification-subscriptions/", "/nrtf/", "/kms/")


def test_openapi_document_lists_every_tms_route(client: httpx.Client) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    operations = {
        (method.upper(), path) for path, entries in document["paths"].items() for method in entries
    }
    assert ("POST", "/tms/v1/instrumentidentifiers") in operations
    assert ("DELETE", "/tms/v2/customers/{customerId}/shipping-addresses/{shippingAddressId}") in (
        operations
    )
    webhooks = {(method, path) for method, path in operations if path.startswith(WEBHOOK_PREFIXES)}
    tms = {
        (method, path)
        for method, path in operations
        if not path.startswith(SANDBOX) and (method, path) not in webhooks
    }
    assert len(tms) == 34
    assert len(webhooks) == 17
    ids = [
        entry["operationId"] for entries in document["paths"].values() for entry in entries.values()
    ]
    assert len(ids) == len(set(ids))
    create = document["paths"]["/tms/v1/instrumentidentifiers"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = schema_ref.rsplit("/", 1)[1]
    assert "card" in document["components"]["schemas"][name]["properties"]


def test_health_endpoints_answer_without_authentication(client: httpx.Client) -> None:
    bare = httpx.Client(transport=client._transport, base_url="http://testserver")
    assert bare.get("/healthz").json() == {"status": "ok"}
    assert bare.get("/readyz").json() == {"status": "ready"}

"""The public surface: a sorted ``__all__``, docstrings everywhere public,
async twins that match their sync resources, and ``py.typed``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import opentms.client
from opentms.client import _async_resources, _async_token_resources, _resources, _token_resources

TWINS = [
    (_resources.InstrumentIdentifiers, _async_resources.AsyncInstrumentIdentifiers),
    (_resources.PaymentInstruments, _async_resources.AsyncPaymentInstruments),
    (_resources.Customers, _async_resources.AsyncCustomers),
    (_resources.CustomerPaymentInstruments, _async_resources.AsyncCustomerPaymentInstruments),
    (_resources.CustomerShippingAddresses, _async_resources.AsyncCustomerShippingAddresses),
    (_token_resources.TokenizedCards, _async_token_resources.AsyncTokenizedCards),
    (_token_resources.Tokens, _async_token_resources.AsyncTokens),
    (_token_resources.TokenApi, _async_token_resources.AsyncTokenApi),
]


def public_methods(cls: type) -> dict[str, Callable[..., Any]]:
    return {
        name: member
        for name, member in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


def test_all_is_sorted_and_every_name_resolves() -> None:
    names = opentms.client.__all__
    assert names == sorted(names, key=str.lower)
    assert len(names) == len(set(names))
    for name in names:
        assert getattr(opentms.client, name) is not None
    assert set(names) <= set(dir(opentms.client))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute"):
        opentms.client.NoSuchThing  # noqa: B018


@pytest.mark.parametrize("name", opentms.client.__all__)
def test_every_public_name_has_a_docstring_and_a_public_module(name: str) -> None:
    value = getattr(opentms.client, name)
    assert (value.__doc__ or "").strip(), f"{name} has no docstring"
    assert value.__module__ == "opentms.client"


@pytest.mark.parametrize(("sync", "async_"), TWINS, ids=[s.__name__ for s, _ in TWINS])
def test_async_resources_mirror_the_sync_ones(sync: type, async_: type) -> None:
    sync_methods = public_methods(sync)
    async_methods = public_methods(async_)
    assert set(sync_methods) == set(async_methods)
    for name, method in sync_methods.items():
        twin = async_methods[name]
        assert inspect.iscoroutinefunction(twin), name
        assert (method.__doc__ or "").strip(), f"{sync.__name__}.{name} has no docstring"
        assert twin.__doc__ == method.__doc__
        sync_params = list(inspect.signature(method).parameters.items())
        async_params = list(inspect.signature(twin).parameters.items())
        assert [(n, p.kind, p.default) for n, p in sync_params] == [
            (n, p.kind, p.default) for n, p in async_params
        ], name
    assert (sync.__doc__ or "").strip()
    assert (async_.__doc__ or "").startswith("The async twin")


def test_clients_have_the_same_resources() -> None:
    sync = opentms.client.Client("http://x")
    async_ = opentms.client.AsyncClient("http://x")
    resources = [
        "instrument_identifiers",
        "payment_instruments",
        "customers",
        "tokenized_cards",
        "tokens",
    ]
    for name in resources:
        sync_type = type(getattr(sync, name))
        async_type = type(getattr(async_, name))
        assert (sync_type, async_type) in TWINS
    sync.close()


def test_the_package_ships_py_typed() -> None:
    assert (Path(opentms.client.__file__).parent / "py.typed").is_file()

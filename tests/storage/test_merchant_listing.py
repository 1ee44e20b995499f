"""The merchant and profile listings of ``SQLMerchantStore`` (``opentms
merchants list`` and ``profiles list``), on each engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from opentms.adapters.storage import migrate
from opentms.adapters.storage.database import make_engine
from opentms.adapters.storage.merchants import SQLMerchantStore
from opentms.domain.merchant import (
    KeyKind,
    KeyRecord,
    MerchantRecord,
    MerchantSummary,
    Profile,
    ProfileSummary,
    WrappedKeys,
)

T0 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
WRAPPED = WrappedKeys(b"data", b"fingerprint")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLMerchantStore]:
    engine: Engine
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'listing.db'}")
    else:
        engine = request.getfixturevalue("postgres_engine")
    migrate.upgrade(engine)
    yield SQLMerchantStore(engine)
    if request.param == "sqlite":
        engine.dispose()


def key(kind: KeyKind, key_id: str, merchant_id: str) -> KeyRecord:
    return KeyRecord(kind, key_id, merchant_id, b"material")


def test_merchants_with_their_keys_newest_first_and_profile_counts(
    store: SQLMerchantStore,
) -> None:
    assert store.merchant_summaries() == []
    store.add_merchant(
        MerchantRecord("zeta", WRAPPED, "P-ZETA"),
        Profile("P-ZETA", "zeta", "default", True),
        [
            key(KeyKind.HTTP_SIGNATURE, "zeta-key", "zeta"),
            key(KeyKind.PAYMENT_CREDENTIALS, "zeta-credentials", "zeta"),
        ],
        T0,
    )
    store.add_merchant(
        MerchantRecord("alpha", WRAPPED, "P-ALPHA"),
        Profile("P-ALPHA", "alpha", "default", True),
        [
            key(KeyKind.HTTP_SIGNATURE, "alpha-key", "alpha"),
            key(KeyKind.JWT_CERTIFICATE, "123", "alpha"),
        ],
        T0 + timedelta(hours=1),
    )
    store.add_profile(Profile("P-ALPHA-2", "alpha", "plain", False), T0 + timedelta(hours=2))
    store.add_profile(Profile("P-ALPHA-3", "alpha", "third", True), T0 + timedelta(hours=3))

    assert store.merchant_summaries() == [
        MerchantSummary("alpha", "P-ALPHA", ("alpha-key",), ("123",), 3, T0 + timedelta(hours=1)),
        MerchantSummary("zeta", "P-ZETA", ("zeta-key",), (), 1, T0),
    ]
    assert store.profile_summaries("alpha") == [
        ProfileSummary("P-ALPHA", "default", True, True, T0 + timedelta(hours=1)),
        ProfileSummary("P-ALPHA-2", "plain", False, False, T0 + timedelta(hours=2)),
        ProfileSummary("P-ALPHA-3", "third", True, False, T0 + timedelta(hours=3)),
    ]
    assert store.profile_summaries("nobody") == []

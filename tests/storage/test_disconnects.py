"""A database connection lost mid-request is a 503 (retry), not a 500."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from opentms.adapters.storage.database import SQLUnitOfWork, make_engine
from opentms.crypto.keyring import Keyring
from opentms.crypto.keys import MasterKey
from opentms.crypto.network_secrets import NetworkSecrets
from opentms.domain.errors import DatabaseUnavailable


def test_an_invalidated_connection_is_database_unavailable(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    keyring = Keyring([MasterKey(bytes(32))])
    secrets = NetworkSecrets(keyring, bytes(32))
    keys = keyring.open("m", keyring.new_merchant_keys("m"))
    lost = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    lost.connection_invalidated = True
    with pytest.raises(DatabaseUnavailable), SQLUnitOfWork(engine, secrets, keys):
        raise lost
    # Any other database error is left alone.
    with pytest.raises(OperationalError), SQLUnitOfWork(engine, secrets, keys) as uow:
        uow._conn.execute(text("SELECT * FROM no_such_table"))

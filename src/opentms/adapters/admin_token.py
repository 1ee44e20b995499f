"""The sandbox admin API's bearer token: OPENTMS_ADMIN_TOKEN, else a token
generated at first start into the data directory (0600), which every worker
and later start reads."""

from __future__ import annotations

import os
import secrets

from opentms.adapters.private_files import make_private_directory, open_private
from opentms.config import Settings


def load_or_create_admin_token(settings: Settings) -> str:
    """The admin token of ``settings``: the configured one, or the one in
    :attr:`Settings.admin_token_file`, created (32 random bytes, base64url)
    when missing. Concurrent first starts agree: the file is created once."""
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value()
    path = settings.admin_token_file
    make_private_directory(path.parent)
    candidate = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(candidate + "\n")
    fd = open_private(str(path), os.O_RDONLY)
    with os.fdopen(fd) as file:
        token = file.read().strip()
    if len(token) < 16:
        # A file another writer has created but not yet filled: ours is not it.
        raise RuntimeError(f"The admin token file {path} is empty or too short; delete it.")
    return token

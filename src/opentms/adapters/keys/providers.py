"""The master key provider of some settings (OPENTMS_KEY_PROVIDER)."""

from __future__ import annotations

from pathlib import Path

from opentms.adapters.keys.env import EnvKeyProvider
from opentms.adapters.keys.file import FileKeyProvider
from opentms.config import Settings
from opentms.crypto.providers import KeyProviderError, MasterKeyProvider


def master_key_provider(settings: Settings) -> MasterKeyProvider:
    if settings.key_provider == "env":
        value = settings.master_keys.get_secret_value() if settings.master_keys else ""
        return EnvKeyProvider(value)
    if settings.key_provider == "pkcs11":
        from opentms.adapters.keys.pkcs11 import Pkcs11KeyProvider

        module, label = settings.pkcs11_module, settings.pkcs11_token_label
        if not module or not label:
            raise KeyProviderError(
                "OPENTMS_KEY_PROVIDER=pkcs11 needs OPENTMS_PKCS11_MODULE (the module's path, "
                "e.g. /usr/lib/softhsm/libsofthsm2.so) and OPENTMS_PKCS11_TOKEN_LABEL"
            )
        return Pkcs11KeyProvider(module, label, _pin(settings))
    return FileKeyProvider(settings.resolved_master_key_file)


def _pin(settings: Settings) -> str:
    if settings.pkcs11_pin is not None:
        return settings.pkcs11_pin.get_secret_value()
    if settings.pkcs11_pin_file is not None:
        return _read_pin(settings.pkcs11_pin_file)
    raise KeyProviderError(
        "OPENTMS_KEY_PROVIDER=pkcs11 needs the token's user PIN: OPENTMS_PKCS11_PIN_FILE "
        "(a file only opentms's user can read) or OPENTMS_PKCS11_PIN"
    )


def _read_pin(path: Path) -> str:
    try:
        pin = path.read_text().strip()
    except OSError as exc:
        raise KeyProviderError(f"OPENTMS_PKCS11_PIN_FILE {path}: {exc.strerror}") from None
    if not pin:
        raise KeyProviderError(f"OPENTMS_PKCS11_PIN_FILE {path} is empty")
    return pin

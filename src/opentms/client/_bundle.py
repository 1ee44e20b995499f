"""The credentials bundle ``opentms merchants create`` writes: ``<merchant>.json``
and the key files beside it (tms-api.md §6; ``opentms.cli.bundle``): read here,
and written here from the bundle document a sandbox's ``POST /merchants`` answers."""

from __future__ import annotations

import base64
import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from opentms.client._auth import HTTPSignatureAuth, JWTAuth
from opentms.client._keys import MLE_CERTIFICATE_ALIAS, P12Contents, load_p12

if TYPE_CHECKING:
    from cryptography import x509

AuthMode = Literal["signature", "jwt", "hs256"]


def _text(document: dict[str, Any], *keys: str) -> str | None:
    value: Any = document
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, repr=False)
class CredentialsBundle:
    """The merchant's identifiers and where its secrets are; secrets stay out of ``repr``."""

    directory: Path
    merchant_id: str
    default_profile_id: str | None
    key_id: str | None
    shared_secret: str | None
    jwt_kid: str | None
    p12_file: Path | None
    p12_password: str | None
    key_alias: str | None
    credentials_kid: str | None
    credentials_private_key_file: Path | None

    def __repr__(self) -> str:
        directory = str(self.directory)
        return f"CredentialsBundle(merchant_id={self.merchant_id!r}, directory={directory!r})"

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CredentialsBundle:
        bundle_path = Path(path)
        document = json.loads(bundle_path.read_text())
        if not isinstance(document, dict) or not _text(document, "merchantId"):
            raise ValueError(f"{bundle_path} is not an opentms credentials bundle (no merchantId).")
        directory = bundle_path.resolve().parent

        def file(*keys: str) -> Path | None:
            name = _text(document, *keys)
            return directory / name if name else None

        return cls(
            directory=directory,
            merchant_id=str(document["merchantId"]),
            default_profile_id=_text(document, "defaultProfileId"),
            key_id=_text(document, "httpSignature", "keyId"),
            shared_secret=_text(document, "httpSignature", "sharedSecret"),
            jwt_kid=_text(document, "jwt", "kid"),
            p12_file=file("jwt", "p12File"),
            p12_password=_text(document, "jwt", "p12Password"),
            key_alias=_text(document, "jwt", "keyAlias"),
            credentials_kid=_text(document, "paymentCredentials", "kid"),
            credentials_private_key_file=file("paymentCredentials", "privateKeyFile"),
        )

    def missing(self, file: Path | None) -> bool:
        """Whether the bundle names ``file`` but it is not there (not copied)."""
        return file is not None and not file.exists()

    def missing_file(self, file: Path, key: str, needed_by: str) -> FileNotFoundError:
        """The error for a key file ``needed_by`` a mode or option but not copied."""
        return FileNotFoundError(
            errno.ENOENT,
            f"{needed_by} needs {file.name} (the bundle's {key}), which is not in "
            f"{self.directory}: copy it there from where the bundle was written",
            str(file),
        )

    def p12(self, mode: AuthMode) -> P12Contents | None:
        """The P12's contents: required for ``jwt`` (its key signs), read when
        present otherwise (its server certificate turns request MLE on)."""
        if self.p12_file is None:
            return None
        if self.missing(self.p12_file):
            if mode == "jwt":
                raise self.missing_file(
                    self.p12_file, "jwt.p12File", "auth='jwt' (RS256 with the P12's key)"
                )
            return None
        return load_p12(self.p12_file, self.p12_password)

    def client_options(
        self, p12: P12Contents | None, response_mle: bool, given: dict[str, Any]
    ) -> dict[str, Any]:
        """The constructor arguments the bundle gives (``given`` ones win):
        only the key files present, unless what was asked for needs one."""
        options: dict[str, Any] = {"profile_id": self.default_profile_id}
        certificate = self.mle_certificate(p12)
        asked = given.get("request_mle") and given.get("request_mle_certificate") is None
        if certificate is not None:
            options["request_mle_certificate"] = certificate
        elif asked and self.p12_file is not None and self.missing(self.p12_file):
            needed_by = "request_mle=True (the server's certificate)"
            raise self.missing_file(self.p12_file, "jwt.p12File", needed_by)
        key_file = self.credentials_private_key_file
        if response_mle:
            if self.credentials_kid is None or key_file is None:
                raise ValueError("response_mle needs the bundle's payment-credentials key pair.")
            if self.missing(key_file):
                name = "paymentCredentials.privateKeyFile"
                raise self.missing_file(key_file, name, "response_mle=True")
            options["response_mle_kid"] = self.credentials_kid
            options["response_mle_key"] = key_file
        if key_file is not None and not self.missing(key_file):
            options["credentials_private_key"] = key_file
        return options

    def auth(self, mode: AuthMode, p12: P12Contents | None) -> HTTPSignatureAuth | JWTAuth:
        """The signer for ``mode``: ``signature``, ``jwt`` (RS256, the P12) or ``hs256``."""
        if mode == "jwt":
            if p12 is None or self.jwt_kid is None:
                raise ValueError(
                    "JWT (RS256) needs the bundle's P12 file; this merchant was registered "
                    "with its own certificate, so give JWTAuth(...) its private key instead."
                )
            return JWTAuth(self.merchant_id, self.jwt_kid, private_key=p12.private_key)
        if self.key_id is None or self.shared_secret is None:
            raise ValueError("The bundle has no httpSignature keyId and sharedSecret.")
        if mode == "hs256":
            return JWTAuth(self.merchant_id, self.key_id, shared_secret=self.shared_secret)
        if mode == "signature":
            return HTTPSignatureAuth(self.merchant_id, self.key_id, self.shared_secret)
        raise ValueError(f"auth must be 'signature', 'jwt' or 'hs256', not {mode!r}.")

    @staticmethod
    def mle_certificate(p12: P12Contents | None) -> x509.Certificate | None:
        """The server's request-encryption certificate (CN ``CyberSource_SJC_US``)."""
        return p12.certificate_named(MLE_CERTIFICATE_ALIAS) if p12 is not None else None


def _write(path: Path, data: bytes, private: bool) -> None:
    # Security: files holding secrets are created owner-only from the start.
    mode = 0o600 if private else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def write_bundle_files(bundle: dict[str, Any], directory: Path) -> Path:
    """Write the answer of ``POST /merchants`` as ``<merchant>.json`` and its key
    files (``<merchant>.p12``, ``<merchant>-credentials-{public,private}.pem``)
    to ``directory``, as ``opentms merchants create`` does; the JSON's path."""
    directory.mkdir(parents=True, exist_ok=True)
    merchant = str(bundle["merchantId"])
    signature = bundle.get("httpSignature") or {}
    jwt = bundle.get("jwt") or {}
    credentials = bundle.get("paymentCredentials") or {}
    document: dict[str, Any] = {
        "merchantId": merchant,
        "defaultProfileId": bundle.get("defaultProfileId"),
        "httpSignature": {
            "keyId": signature.get("keyId"),
            "sharedSecret": signature.get("sharedSecret"),
        },
        "jwt": {"kid": jwt.get("kid")},
        "paymentCredentials": {"kid": credentials.get("kid")},
    }
    if jwt.get("p12Base64"):
        p12_name = f"{merchant}.p12"
        _write(directory / p12_name, base64.b64decode(jwt["p12Base64"]), private=True)
        document["jwt"] |= {
            "p12File": p12_name,
            "p12Password": jwt.get("p12Password"),
            "keyAlias": jwt.get("keyAlias") or merchant,
        }
    files = {
        "publicKeyFile": ("publicKeyPem", f"{merchant}-credentials-public.pem", False),
        "privateKeyFile": ("privateKeyPem", f"{merchant}-credentials-private.pem", True),
    }
    for key, (source, name, private) in files.items():
        if credentials.get(source):
            _write(directory / name, str(credentials[source]).encode(), private=private)
            document["paymentCredentials"][key] = name
    path = directory / f"{merchant}.json"
    _write(path, (json.dumps(document, indent=2) + "\n").encode(), private=True)
    return path

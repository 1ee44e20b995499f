"""``opentms merchants show``, ``merchants keys add|revoke|list`` and
``merchants bundle``: what a merchant has registered, and its credentials'
rotation (add the new one, deploy it, revoke the old one).

Exit status: 0 done; 1 the registry refused the change (no such key, the last
credential, already revoked) or a file could not be written; 2 a usage error
(unknown merchant, unusable key material, invalid settings).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from opentms.cli.main import (
    _echo_table,
    _settings,
    _timestamp,
    _where,
    data_dir_option,
    merchants,
)
from opentms.domain.audit import cli_actor
from opentms.domain.merchant import CredentialSummary, KeyKind
from opentms.services.credentials import (
    CredentialRefused,
    CredentialService,
    LastCredential,
    MerchantDetails,
)
from opentms.services.merchants import InvalidRegistration

KINDS = {"http-signature": KeyKind.HTTP_SIGNATURE, "jwt": KeyKind.JWT_CERTIFICATE}
json_flag = click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts.")


@contextlib.contextmanager
def _credentials(data_dir: Path | None) -> Iterator[CredentialService]:
    """The credential service over the database of the settings; its
    refusals end the command with their message."""
    from opentms.bootstrap import build_services

    settings = _settings(data_dir)
    services = build_services(settings)
    try:
        yield services.merchants.credential_service()
    except InvalidRegistration as exc:  # unknown merchant, unusable material
        raise click.UsageError(f"{exc} (data: {_where(settings)})") from None
    except LastCredential as exc:
        raise click.ClickException(
            f"{exc} (`opentms merchants keys add` adds one; --force revokes it anyway.)"
        ) from None
    except CredentialRefused as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()


def _actor() -> str:
    """The operator, as the audit log names a CLI command's actor."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or passwd
        user = f"uid-{os.getuid()}"
    return cli_actor(user)


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else _timestamp(moment)


def _write_private(path: Path, data: bytes) -> None:
    """Write a secret to a new file, owner-only from the start; an existing
    file is never overwritten (it may hold the credential in use)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.ClickException(f"{path} exists; give a new file name.") from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


# merchants show -----------------------------------------------------------------------


def _credential_document(credential: CredentialSummary) -> dict[str, Any]:
    return {
        "kind": credential.kind.value,
        "keyId": credential.key_id,
        "createdAt": _timestamp(credential.created_at),
        "revokedAt": _when(credential.revoked_at),
        "active": credential.active,
    }


def _details_document(details: MerchantDetails) -> dict[str, Any]:
    status = details.status
    return {
        "merchantId": status.id,
        "createdAt": _timestamp(status.created_at),
        "state": "shredded" if status.shredded_at else "active",
        "shreddedAt": _when(status.shredded_at),
        "dataKeyRotatedAt": _when(status.data_key_rotated_at),
        "defaultProfileId": status.default_profile_id,
        "profiles": [
            {
                "profileId": p.id,
                "name": p.name,
                "networkTokens": p.network_tokens_enabled,
                "default": p.default,
                "createdAt": _timestamp(p.created_at),
            }
            for p in details.profiles
        ],
        "credentials": [_credential_document(c) for c in details.credentials],
    }


def _echo_credentials(credentials: list[CredentialSummary]) -> None:
    header = ("KIND", "KEY ID", "CREATED", "REVOKED")
    rows = [
        (c.kind.value, c.key_id, _timestamp(c.created_at), _when(c.revoked_at) or "-")
        for c in credentials
    ]
    _echo_table(header, rows)


@merchants.command("show")
@click.argument("merchant_id")
@json_flag
@data_dir_option
def merchants_show(merchant_id: str, as_json: bool, data_dir: Path | None) -> None:
    """Show what MERCHANT_ID has registered: when, its default profile, its
    profiles, and every credential (kind, key id, created, revoked). Never a
    secret: shared secrets and private keys are not printed (the server holds
    no private key at all)."""
    with _credentials(data_dir) as service:
        details = service.details(merchant_id)
    if as_json:
        click.echo(json.dumps(_details_document(details), indent=2))
        return
    status = details.status
    state = f"shredded at {_when(status.shredded_at)}" if status.shredded_at else "active"
    lines = [
        ("Merchant", status.id),
        ("Created", _timestamp(status.created_at)),
        ("Default profile", status.default_profile_id),
        ("State", state),
    ]
    if status.data_key_rotated_at is not None:
        lines.append(("Data key rotated", _timestamp(status.data_key_rotated_at)))
    for label, value in lines:
        click.echo(f"{label + ':':<18}{value}")
    if details.profiles:
        click.echo("\nProfiles:")
        _echo_table(
            ("PROFILE", "NAME", "NETWORK TOKENS", "DEFAULT", "CREATED"),
            [
                (
                    p.id,
                    p.name,
                    "yes" if p.network_tokens_enabled else "no",
                    "yes" if p.default else "-",
                    _timestamp(p.created_at),
                )
                for p in details.profiles
            ],
        )
    click.echo("\nCredentials:")
    if details.credentials:
        _echo_credentials(details.credentials)
    else:
        click.echo("(none)")


# merchants keys ------------------------------------------------------------------------


@merchants.group("keys")
def merchant_keys() -> None:
    """A merchant's HTTP Signature keys and JWT certificates: add one beside
    those in use (several authenticate at once), revoke one, list them."""


@merchant_keys.command("list")
@click.argument("merchant_id")
@json_flag
@data_dir_option
def keys_list(merchant_id: str, as_json: bool, data_dir: Path | None) -> None:
    """List MERCHANT_ID's credentials, revoked ones included: kind, key id,
    when created, when revoked. Never a secret."""
    with _credentials(data_dir) as service:
        credentials = service.details(merchant_id).credentials
    if as_json:
        click.echo(json.dumps([_credential_document(c) for c in credentials], indent=2))
    else:
        _echo_credentials(credentials)


@merchant_keys.command("add")
@click.argument("merchant_id")
@click.option(
    "--http-signature", "kind", flag_value="http-signature", help="Add an HTTP Signature key."
)
@click.option("--jwt", "kind", flag_value="jwt", help="Add a JWT (RS256) certificate.")
@click.option("--key-id", help="HTTP Signature: register this key id instead of a new UUID.")
@click.option(
    "--shared-secret-from",
    type=click.File("r"),
    help="HTTP Signature: register the base64 shared secret in this file ('-': standard "
    "input) instead of generating one.",
)
@click.option(
    "--shared-secret-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="HTTP Signature: write the new shared secret to this new file (mode 0600) "
    "instead of printing it.",
)
@click.option(
    "--certificate",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="JWT: register this PEM certificate (CN = merchant id, serialNumber = kid) "
    "instead of generating a key pair.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="JWT, generated: the directory for the new MERCHANT_ID-KID.p12.",
)
@json_flag
@data_dir_option
def keys_add(
    merchant_id: str,
    kind: str | None,
    key_id: str | None,
    shared_secret_from: Any,
    shared_secret_file: Path | None,
    certificate: Path | None,
    out: Path,
    as_json: bool,
    data_dir: Path | None,
) -> None:
    """Add a credential to MERCHANT_ID, valid at once beside the ones in use.

    --http-signature: a new key id and shared secret, printed once (or written
    to --shared-secret-file). --jwt: a new key pair and certificate in a
    PKCS#12 file in --out (its password printed once), or --certificate.
    Deploy it, then revoke the old one with `opentms merchants keys revoke`.
    """
    if kind is None:
        raise click.UsageError("Say what to add: --http-signature or --jwt.")
    jwt_only = {"--certificate": certificate is not None}
    signature_only = {
        "--key-id": key_id is not None,
        "--shared-secret-from": shared_secret_from is not None,
        "--shared-secret-file": shared_secret_file is not None,
    }
    misplaced = [n for n, given in (jwt_only if kind != "jwt" else signature_only).items() if given]
    if misplaced:
        raise click.UsageError(f"{', '.join(misplaced)} does not apply to --{kind}.")
    if shared_secret_file is not None and shared_secret_file.exists():
        raise click.UsageError(f"{shared_secret_file} exists; give a new file name.")
    actor = _actor()
    if kind == "http-signature":
        given = shared_secret_from.read().strip() if shared_secret_from is not None else None
        with _credentials(data_dir) as service:
            added = service.add_http_signature_key(merchant_id, actor, key_id, given)
        document: dict[str, Any] = {
            "merchantId": merchant_id,
            "kind": KeyKind.HTTP_SIGNATURE.value,
            "keyId": added.key_id,
        }
        if shared_secret_file is not None:
            _write_private(shared_secret_file, (added.shared_secret + "\n").encode())
            document["sharedSecretFile"] = str(shared_secret_file)
        elif given is None:
            document["sharedSecret"] = added.shared_secret
        _report_added(document, as_json)
        return
    pem = certificate.read_bytes() if certificate is not None else None
    with _credentials(data_dir) as service:
        jwt = service.add_jwt_certificate(merchant_id, actor, pem)
    document = {"merchantId": merchant_id, "kind": KeyKind.JWT_CERTIFICATE.value, "keyId": jwt.kid}
    if jwt.p12 is not None:
        out.mkdir(parents=True, exist_ok=True)
        p12_file = out / f"{merchant_id}-{jwt.kid}.p12"
        _write_private(p12_file, jwt.p12)
        document |= {"p12File": str(p12_file), "p12Password": jwt.p12_password}
    _report_added(document, as_json)


def _report_added(document: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    what = "HTTP Signature key" if document["kind"] == KeyKind.HTTP_SIGNATURE else "JWT certificate"
    click.echo(f"Added {what} {document['keyId']} to merchant {document['merchantId']}.")
    if "sharedSecret" in document:
        click.echo(f"Shared secret (shown once): {document['sharedSecret']}")
    if "sharedSecretFile" in document:
        click.echo(f"Shared secret written to {document['sharedSecretFile']}")
    if "p12File" in document:
        click.echo(f"Key and certificate written to {document['p12File']}")
        click.echo(f"P12 password (shown once): {document['p12Password']}")
    click.echo(
        "It authenticates now, beside the merchant's other keys; once it is deployed, revoke "
        "the old one: opentms merchants keys revoke "
        f"{document['merchantId']} OLD_KEY_ID",
        err=True,
    )


@merchant_keys.command("revoke")
@click.argument("merchant_id")
@click.argument("key_id")
@click.option(
    "--kind",
    type=click.Choice(sorted(KINDS)),
    help="Which credential, when KEY_ID names both an HTTP Signature key and a JWT certificate.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Revoke even the merchant's last active credential (it is then locked out).",
)
@json_flag
@data_dir_option
def keys_revoke(
    merchant_id: str,
    key_id: str,
    kind: str | None,
    force: bool,
    as_json: bool,
    data_dir: Path | None,
) -> None:
    """Revoke MERCHANT_ID's HTTP Signature key or JWT certificate KEY_ID.

    Every server process refuses it from its next request (401): the change
    moves the registry epoch, which each process checks at every
    authentication. Refused (exit status 1) for a key the merchant does not
    have and for its last active credential unless --force.
    """
    with _credentials(data_dir) as service:
        revoked = service.revoke(
            merchant_id, key_id, _actor(), kind=KINDS.get(kind or ""), force=force
        )
    if as_json:
        click.echo(json.dumps({"merchantId": merchant_id, **_credential_document(revoked)}))
        return
    what = "HTTP Signature key" if revoked.kind == KeyKind.HTTP_SIGNATURE else "JWT certificate"
    click.echo(
        f"Revoked {what} {revoked.key_id} of merchant {merchant_id} at "
        f"{_when(revoked.revoked_at)}; every server process refuses it from its next request."
    )


# merchants bundle ----------------------------------------------------------------------


@merchants.command("bundle")
@click.argument("merchant_id")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="A directory for the new bundle (not the one of the bundle in use: nothing there "
    "is overwritten).",
)
@click.option(
    "--credentials-private-key",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The payment-credentials private key of the first bundle "
    "(MERCHANT_ID-credentials-private.pem), to copy into the new one; the server never "
    "had it.",
)
@click.option(
    "--server-url",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="The URL of the `opentms serve` the SDKs will call, written into the printed "
    "configurations.",
)
@data_dir_option
def merchants_bundle(
    merchant_id: str,
    out: Path,
    credentials_private_key: Path | None,
    server_url: str,
    data_dir: Path | None,
) -> None:
    """Write a new credentials bundle for a registered MERCHANT_ID to --out:
    a new HTTP Signature key, a new JWT key pair (MERCHANT_ID.p12) and
    MERCHANT_ID.json, as `merchants create` writes them. The earlier
    credentials stay valid until revoked (`opentms merchants keys revoke`)."""
    from opentms.cli.bundle import sdk_configuration, write_bundle
    from opentms.crypto import certificates

    if (out / f"{merchant_id}.json").exists():
        raise click.UsageError(
            f"{out} already holds a bundle of {merchant_id}; give a new directory (the bundle "
            "in use stays valid until its keys are revoked)."
        )
    private_pem = None
    if credentials_private_key is not None:
        private_pem = credentials_private_key.read_bytes()
        try:
            key = certificates.load_private_key_pem(private_pem)
        except (ValueError, TypeError, certificates.InvalidKeyMaterial):
            raise click.UsageError(
                f"{credentials_private_key} is not an unencrypted PEM RSA private key."
            ) from None
        kid = certificates.rsa_thumbprint(key.public_key())
    with _credentials(data_dir) as service:
        registered = [
            c.key_id
            for c in service.details(merchant_id).credentials
            if c.kind == KeyKind.PAYMENT_CREDENTIALS and c.active
        ]
        # Credentials are encrypted to the newest one (the list is oldest first).
        if private_pem is not None and registered[-1:] != [kid]:
            raise click.UsageError(
                f"{credentials_private_key} is not the private key of {merchant_id}'s "
                "payment-credentials key."
            )
        registration = service.bundle(merchant_id, _actor())
    registration = replace(registration, credentials_private_key_pem=private_pem)
    try:
        path = write_bundle(registration, out)
    except OSError as exc:
        raise click.ClickException(f"cannot write the bundle to {out}: {exc}") from None
    click.echo(f"New credentials of merchant {merchant_id} written to {path}")
    click.echo(f"HTTP Signature key: {registration.key_id}; JWT kid: {registration.jwt_kid}")
    if private_pem is None:
        click.echo(
            f"Note: the payment-credentials private key is not in the new bundle (the server "
            f"never had it); give --credentials-private-key, or copy {merchant_id}-credentials-"
            "private.pem beside the new bundle and name it in its paymentCredentials."
            "privateKeyFile.",
            err=True,
        )
    click.echo("The earlier credentials stay valid until revoked.", err=True)
    click.echo("")
    click.echo(sdk_configuration(registration, out, server_url))

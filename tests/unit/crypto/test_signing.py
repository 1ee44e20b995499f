from __future__ import annotations

import pytest

from opentms.crypto.signing import (
    InvalidSignature,
    body_digest,
    hmac_signature,
    verify_digest,
    verify_hmac_signature,
)
from tests.unit import captures
from tests.unit.captures import Capture

CAPTURES = [
    pytest.param(captures.CREATE_II, id="create-instrument-identifier"),
    pytest.param(captures.RETRIEVE_II, id="retrieve-with-query"),
    pytest.param(captures.CREATE_PI, id="create-payment-instrument"),
    pytest.param(captures.PATCH_PI, id="patch-payment-instrument"),
]


def _captured_signature(capture: Capture) -> str:
    return capture.headers["signature"].rsplit('signature="', 1)[1].rstrip('"')


@pytest.mark.parametrize(
    ("body", "digest"),
    [
        pytest.param(captures.CREATE_II_BODY, captures.CREATE_II_DIGEST, id="create-ii"),
        pytest.param(captures.CREATE_PI_BODY, captures.CREATE_PI_DIGEST, id="create-pi"),
        pytest.param(captures.PATCH_PI_BODY, captures.PATCH_PI_DIGEST, id="patch-pi"),
        # SHA-256 of the empty string (FIPS 180-2 e3b0c442...), base64.
        pytest.param(b"", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", id="empty"),
    ],
)
def test_body_digest_known_answers(body: bytes, digest: str) -> None:
    assert body_digest(body) == digest
    verify_digest(body, digest)


@pytest.mark.parametrize("capture", CAPTURES)
def test_hmac_signature_of_sdk_captures(capture: Capture) -> None:
    assert hmac_signature(captures.SHARED_SECRET, capture.signing_string) == (
        _captured_signature(capture)
    )
    verify_hmac_signature(
        captures.SHARED_SECRET, capture.signing_string, _captured_signature(capture)
    )


@pytest.mark.parametrize(
    ("secret", "signing_string", "signature"),
    [
        pytest.param(
            captures.SHARED_SECRET[:-1] + b"\x00",
            captures.CREATE_II.signing_string,
            _captured_signature(captures.CREATE_II),
            id="other-secret",
        ),
        pytest.param(
            captures.SHARED_SECRET_B64.encode(),
            captures.CREATE_II.signing_string,
            _captured_signature(captures.CREATE_II),
            id="secret-not-base64-decoded",
        ),
        pytest.param(
            captures.SHARED_SECRET,
            captures.CREATE_II.signing_string + "\n",
            _captured_signature(captures.CREATE_II),
            id="trailing-newline",
        ),
        pytest.param(
            captures.SHARED_SECRET,
            captures.CREATE_II.signing_string.replace("post ", "POST "),
            _captured_signature(captures.CREATE_II),
            id="method-case",
        ),
        pytest.param(
            captures.SHARED_SECRET,
            captures.CREATE_II.signing_string,
            _captured_signature(captures.RETRIEVE_II),
            id="signature-of-another-request",
        ),
        pytest.param(
            captures.SHARED_SECRET, captures.CREATE_II.signing_string, "", id="empty-signature"
        ),
        pytest.param(
            captures.SHARED_SECRET,
            captures.CREATE_II.signing_string,
            _captured_signature(captures.CREATE_II).rstrip("="),
            id="unpadded",
        ),
    ],
)
def test_verify_hmac_signature_raises_on_mismatch(
    secret: bytes, signing_string: str, signature: str
) -> None:
    with pytest.raises(InvalidSignature):
        verify_hmac_signature(secret, signing_string, signature)


@pytest.mark.parametrize(
    ("body", "claimed"),
    [
        pytest.param(captures.CREATE_II_BODY + b" ", captures.CREATE_II_DIGEST, id="extra-byte"),
        pytest.param(
            captures.CREATE_II_BODY.replace(b", ", b","),
            captures.CREATE_II_DIGEST,
            id="reserialised",
        ),
        pytest.param(
            captures.CREATE_II_BODY, "SHA-256=" + captures.CREATE_II_DIGEST, id="with-prefix"
        ),
        pytest.param(captures.CREATE_II_BODY, "", id="empty"),
    ],
)
def test_verify_digest_raises_on_mismatch(body: bytes, claimed: str) -> None:
    with pytest.raises(InvalidSignature):
        verify_digest(body, claimed)

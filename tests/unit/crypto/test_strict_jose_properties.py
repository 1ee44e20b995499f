"""Properties of the strict compact parsers (issue 9, point 1): whatever text
is drawn, a token is either the genuine one or refused; base64url has one
spelling per value; a request JWE opens only in its genuine compact form."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK

from opentms.crypto import jwe, jws
from opentms.crypto.signing import InvalidSignature
from tests.jwt_mutations import Mutations
from tests.unit.jose import certificate_pem, oct_jwk, rsa_jwk, rsa_key, sign

CLAIMS = {"iat": 1795475851, "v-c-merchant-id": "m", "request-method": "GET", "jti": "1"}
ATTACKER = {**CLAIMS, "v-c-merchant-id": "victim", "jti": "2"}
SECRET = bytes(range(32))
PROPERTY = settings(
    max_examples=600, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa_key()


Verify = Callable[[jws.CompactJWS, bytes], None]


def accepted(token: str, verify: Verify, key: bytes) -> bool:
    try:
        parsed = jws.parse_compact(token)
        verify(parsed, key)
    except (jws.MalformedToken, InvalidSignature):
        return False
    return True


@pytest.mark.parametrize("algorithm", ["RS256", "HS256"])
def test_no_mutation_of_a_genuine_token_parses_and_verifies(
    key: rsa.RSAPrivateKey, algorithm: str
) -> None:
    """Mutations over the whole of Unicode (control characters, line and
    paragraph separators, NUL), which HTTP could not carry to the server."""
    if algorithm == "RS256":
        header = {"kid": "1", "typ": "JWT"}
        genuine = sign(rsa_jwk(key), "RS256", header, CLAIMS)
        verify: Verify = jws.verify_rs256
        verifying_key = certificate_pem(key, "m", "1")
    else:
        header = {"kid": "key-1", "typ": "JWT"}
        genuine = sign(oct_jwk(SECRET), "HS256", header, CLAIMS)
        verify, verifying_key = jws.verify_hs256, SECRET
    assert accepted(genuine, verify, verifying_key)
    mutations = Mutations(genuine, {"alg": algorithm, **header}, ATTACKER, http_safe=False)

    @PROPERTY
    @given(mutations.tokens())
    def refused(token: str) -> None:
        assert not accepted(token, verify, verifying_key)

    refused()


@PROPERTY
@given(st.binary(max_size=64))
def test_base64url_has_one_spelling(raw: bytes) -> None:
    encoded = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    assert jws.b64url_decode(encoded) == raw
    for suffix in ("=", "==", " ", "\n", "+", "/"):
        with pytest.raises(jws.MalformedToken):
            jws.b64url_decode(encoded + suffix)


@PROPERTY
@given(st.text(max_size=12))
def test_base64url_decodes_only_its_canonical_spelling(text: str) -> None:
    try:
        raw = jws.b64url_decode(text)
    except jws.MalformedToken:
        return
    assert base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == text


@pytest.fixture(scope="module")
def mle_key() -> rsa.RSAPrivateKey:
    return rsa_key()


def test_no_mutation_of_a_request_jwe_opens(mle_key: rsa.RSAPrivateKey) -> None:
    """The compact form only: the JSON serialisations of the same JWE, extra
    segments, padding, junk and whitespace are all refused."""
    plaintext = b'{"card": {"number": "4111111111111111"}}'
    protected = json.dumps({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "1", "iat": 0})
    token = JWE(plaintext, recipient=JWK.from_pyca(mle_key.public_key()), protected=protected)
    genuine: str = token.serialize(compact=True)
    assert jwe.decrypt_compact(mle_key, genuine) == plaintext
    flattened: str = token.serialize(compact=False)
    segments = genuine.split(".")

    def mutate(what: int, at: int, text: str) -> str:
        if what == 0:
            return flattened
        if what == 1:
            return genuine[:at] + text + genuine[at:]
        if what == 2:
            return ".".join(s + ("=" if i == at % 5 else "") for i, s in enumerate(segments))
        return ".".join(s for i, s in enumerate(segments) if i != at % 5)

    @PROPERTY
    @given(
        st.integers(0, 3),
        st.integers(0, len(genuine)),
        st.one_of(st.text(min_size=1, max_size=3), st.sampled_from([".", "=", " ", "\n"])),
    )
    def refused(what: int, at: int, text: str) -> None:
        mutated = mutate(what, at, text)
        if mutated == genuine:
            return
        try:
            opened = jwe.decrypt_compact(mle_key, mutated)
        except jwe.JWEDecryptionFailed:
            return
        raise AssertionError(f"opened a mutated JWE: {opened!r}")

    refused()

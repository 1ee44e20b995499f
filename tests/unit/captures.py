"""Requests the official CyberSource Python SDK 0.0.80 sent, copied byte for
byte from /work/shared/reference/sdk-wire-captures.md §8 (throw-away TEST
credentials, published there unredacted)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

MERCHANT_ID = "tms_test_merchant"
KEY_ID = "bdbc3974-1dc0-43bd-8403-06863c2aa36d"
SHARED_SECRET_B64 = "QLgED+1UzyqtaHIsicQIMOdzOHthSRak3glOna2+T5s="
SHARED_SECRET = base64.b64decode(SHARED_SECRET_B64)


@dataclass(frozen=True)
class Capture:
    """One request as it arrived: header names lower-cased, values verbatim."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    signing_string: str
    sent_at: datetime


def _signature(headers: str, signature: str) -> str:
    return f'keyid="{KEY_ID}", algorithm="HmacSHA256", headers="{headers}", signature="{signature}"'


_COMMON = {
    "host": "127.0.0.1:18080",
    "accept": "application/json;charset=utf-8",
    "content-type": "application/json;charset=utf-8",
    "v-c-client-id": "cybs-rest-sdk-python-0.0.80",
    "accept-encoding": "*",
    "v-c-merchant-id": MERCHANT_ID,
    "user-agent": "Swagger-Codegen/1.0.0/python",
    "v-c-sdk-telemetry-merchant-id": MERCHANT_ID,
}

CREATE_II_BODY = (
    b'{"type": "enrollable card", "card": {"number": "4111111111111111", '
    b'"expirationMonth": "12", "expirationYear": "2031", "securityCode": "123"}}'
)
CREATE_II_DIGEST = "dakcIIFuQqHdfhUz3Y86BYNXFgRKkfoo/+SmJyjM8Hk="

# HTTP Signature: create instrument identifier.
CREATE_II = Capture(
    method="POST",
    target="/tms/v1/instrumentidentifiers",
    headers={
        **_COMMON,
        "content-length": "141",
        "date": "Mon, 23 Nov 2026 23:17:30 GMT",
        "digest": f"SHA-256={CREATE_II_DIGEST}",
        "signature": _signature(
            "host date request-target digest v-c-merchant-id",
            "Y/P9MKh32jcwLKXvnDQDtvT03Zm3G7rBIK+Ysus4kdI=",
        ),
    },
    body=CREATE_II_BODY,
    signing_string=(
        "host: 127.0.0.1:18080\n"
        "date: Mon, 23 Nov 2026 23:17:30 GMT\n"
        "request-target: post /tms/v1/instrumentidentifiers\n"
        f"digest: SHA-256={CREATE_II_DIGEST}\n"
        "v-c-merchant-id: tms_test_merchant"
    ),
    sent_at=datetime(2026, 11, 23, 23, 17, 30, tzinfo=UTC),
)

# HTTP Signature: retrieve instrument identifier, with a query string.
RETRIEVE_II = Capture(
    method="GET",
    target="/tms/v1/instrumentidentifiers/7011233217898191240?retrieveBinDetails=True",
    headers={
        **_COMMON,
        "date": "Mon, 23 Nov 2026 23:17:30 GMT",
        "signature": _signature(
            "host date request-target v-c-merchant-id",
            "4TPUaCizMusY3ooawbypZMUSmMwk1Xy21CS+Ka+f9SU=",
        ),
    },
    body=b"",
    signing_string=(
        "host: 127.0.0.1:18080\n"
        "date: Mon, 23 Nov 2026 23:17:30 GMT\n"
        "request-target: get /tms/v1/instrumentidentifiers/7011233217898191240"
        "?retrieveBinDetails=True\n"
        "v-c-merchant-id: tms_test_merchant"
    ),
    sent_at=datetime(2026, 11, 23, 23, 17, 30, tzinfo=UTC),
)

CREATE_PI_BODY = (
    b'{"card": {"expirationMonth": "12", "expirationYear": "2031", "type": "visa"}, '
    b'"billTo": {"firstName": "John", "lastName": "Doe", "address1": "1 Market St", '
    b'"locality": "San Francisco", "administrativeArea": "CA", "postalCode": "94105", '
    b'"country": "US", "email": "test@example.com"}, '
    b'"instrumentIdentifier": {"id": "7011233217898191240"}}'
)
CREATE_PI_DIGEST = "2J47KxKTh/8lKl5GHwflfYkexPXIbDIJHeCPtL56uPc="

# HTTP Signature: create payment instrument.
CREATE_PI = Capture(
    method="POST",
    target="/tms/v1/paymentinstruments",
    headers={
        **_COMMON,
        "content-length": "337",
        "date": "Mon, 23 Nov 2026 23:17:30 GMT",
        "digest": f"SHA-256={CREATE_PI_DIGEST}",
        "signature": _signature(
            "host date request-target digest v-c-merchant-id",
            "wnBDup3bbMyGOkbsvZdDPRXaprJWKcb1oqAVXZVBHM8=",
        ),
    },
    body=CREATE_PI_BODY,
    signing_string=(
        "host: 127.0.0.1:18080\n"
        "date: Mon, 23 Nov 2026 23:17:30 GMT\n"
        "request-target: post /tms/v1/paymentinstruments\n"
        f"digest: SHA-256={CREATE_PI_DIGEST}\n"
        "v-c-merchant-id: tms_test_merchant"
    ),
    sent_at=datetime(2026, 11, 23, 23, 17, 30, tzinfo=UTC),
)

PATCH_PI_BODY = b'{"billTo": {"email": "updated@example.com"}}'
PATCH_PI_DIGEST = "kSdOY6itRCJMmbf6jJLQng2jBnaQcfuZl8uAg9sgQO4="

# HTTP Signature: patch payment instrument with If-Match.
PATCH_PI = Capture(
    method="PATCH",
    target="/tms/v1/paymentinstruments/9FBCA6E57761B31FD514108BCEAE0565",
    headers={
        **_COMMON,
        "content-length": "44",
        "if-match": '"110"',
        "date": "Mon, 23 Nov 2026 23:17:31 GMT",
        "digest": f"SHA-256={PATCH_PI_DIGEST}",
        "signature": _signature(
            "host date request-target digest v-c-merchant-id",
            "y4i7yKE4Owb1rxLmAZQcTcrnJmOekeOmzOx2+M5hbv4=",
        ),
    },
    body=PATCH_PI_BODY,
    signing_string=(
        "host: 127.0.0.1:18080\n"
        "date: Mon, 23 Nov 2026 23:17:31 GMT\n"
        "request-target: patch /tms/v1/paymentinstruments/9FBCA6E57761B31FD514108BCEAE0565\n"
        f"digest: SHA-256={PATCH_PI_DIGEST}\n"
        "v-c-merchant-id: tms_test_merchant"
    ),
    sent_at=datetime(2026, 11, 23, 23, 17, 31, tzinfo=UTC),
)

HTTP_SIGNATURE_CAPTURES = [CREATE_II, RETRIEVE_II, CREATE_PI, PATCH_PI]

_JWT_COMMON = {
    key: value
    for key, value in _COMMON.items()
    if key not in ("v-c-merchant-id", "accept-encoding")
} | {"accept-encoding": "identity"}

# JWT signed HS256 with the shared secret: create instrument identifier.
HS256_CREATE_II_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImJkYmMzOTc0LTFkYzAtNDNiZC04NDAzLTA2ODYzYzJhYTM2ZCIsInR5cCI6Ikp"
    "XVCJ9.eyJkaWdlc3QiOiJkYWtjSUlGdVFxSGRmaFV6M1k4NkJZTlhGZ1JLa2Zvby8rU21KeWpNOEhrPSIsImRpZ2Vz"
    "dEFsZ29yaXRobSI6IlNIQS0yNTYiLCJleHAiOjE3OTU0NzU5NzIsImlhdCI6MTc5NTQ3NTg1MiwiaXNzIjoidG1zX3"
    "Rlc3RfbWVyY2hhbnQiLCJqdGkiOiJkYWJlZTgxOS01YTk3LTQ2NzUtYTUwYy05NWFmYWJhMzVmNGYiLCJyZXF1ZXN0"
    "LWhvc3QiOiIxMjcuMC4wLjE6MTgwODAiLCJyZXF1ZXN0LW1ldGhvZCI6IlBPU1QiLCJyZXF1ZXN0LXJlc291cmNlLX"
    "BhdGgiOiIvdG1zL3YxL2luc3RydW1lbnRpZGVudGlmaWVycyIsInYtYy1qd3QtdmVyc2lvbiI6IjIiLCJ2LWMtbWVy"
    "Y2hhbnQtaWQiOiJ0bXNfdGVzdF9tZXJjaGFudCJ9.6Rg6gwp8BUeKb9kO1zoNjaMokA8HCdjG7bgDvCvWi68"
)

HS256_CREATE_II = Capture(
    method="POST",
    target="/tms/v1/instrumentidentifiers",
    headers={
        **_JWT_COMMON,
        "content-length": "141",
        "authorization": f"Bearer {HS256_CREATE_II_TOKEN}",
    },
    body=CREATE_II_BODY,
    signing_string="",
    sent_at=datetime(2026, 11, 23, 23, 17, 32, tzinfo=UTC),  # iat 1795475852
)

# JWT signed HS256 with the shared secret: retrieve with a query string.
HS256_RETRIEVE_II_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImJkYmMzOTc0LTFkYzAtNDNiZC04NDAzLTA2ODYzYzJhYTM2ZCIsInR5cCI6Ikp"
    "XVCJ9.eyJleHAiOjE3OTU0NzU5NzIsImlhdCI6MTc5NTQ3NTg1MiwiaXNzIjoidG1zX3Rlc3RfbWVyY2hhbnQiLCJqd"
    "GkiOiI2MWEyMmFhNC02NTczLTQ4YjgtOGUyNy1iNDg2MGZkMzQ5Y2EiLCJyZXF1ZXN0LWhvc3QiOiIxMjcuMC4wLjE6"
    "MTgwODAiLCJyZXF1ZXN0LW1ldGhvZCI6IkdFVCIsInJlcXVlc3QtcmVzb3VyY2UtcGF0aCI6Ii90bXMvdjEvaW5zdH"
    "J1bWVudGlkZW50aWZpZXJzLzcwMTEyMzMyMTc4OTgxOTEyNDA_cmV0cmlldmVCaW5EZXRhaWxzPVRydWUiLCJ2LWMt"
    "and0LXZlcnNpb24iOiIyIiwidi1jLW1lcmNoYW50LWlkIjoidG1zX3Rlc3RfbWVyY2hhbnQifQ.ri5v2NVRRrqVNKd4"
    "W7Js8mGaLTve0stAZ_GCqJI6CCo"
)

HS256_RETRIEVE_II = Capture(
    method="GET",
    target="/tms/v1/instrumentidentifiers/7011233217898191240?retrieveBinDetails=True",
    headers={**_JWT_COMMON, "authorization": f"Bearer {HS256_RETRIEVE_II_TOKEN}"},
    body=b"",
    signing_string="",
    sent_at=datetime(2026, 11, 23, 23, 17, 32, tzinfo=UTC),  # iat 1795475852
)

JWT_CAPTURES = [HS256_CREATE_II, HS256_RETRIEVE_II]

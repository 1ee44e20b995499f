"""Payment credentials with the official CyberSource Python SDK
(cybersource-rest-client-python 0.0.80) pointed at opentms: create an
instrument identifier for a test card, a customer, the customer's payment
instrument for that card, then ask for the customer's payment credentials and
decrypt the JWE with the SDK's own JWEUtility and the bundle's private key.

    sdk/bin/python examples/official_sdk.py credentials/acme.json
    sdk/bin/python examples/official_sdk.py credentials/acme.json --auth jwt

Run it with the interpreter of a virtualenv that holds the SDK (see the
README), not with opentms's own: the SDK replaces urllib3. The bundle is what
``opentms merchants create acme --out credentials`` wrote. Everything it uses
is created first, so it runs against an empty server.

In SDK 0.0.80 payment credentials are ``NetworkTokensApi.post_token_payment_credentials``
(there is no ``TokenApi`` class), and every call answers a tuple:
``*_with_http_info`` gives (model, status, headers), the plain method
(model, status, raw body).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from CyberSource import (
    CustomerApi,
    CustomerPaymentInstrumentApi,
    InstrumentIdentifierApi,
    NetworkTokensApi,
)
from CyberSource.utilities.JWEResponse.JWEUtility import JWEUtility
from jwcrypto import jwk

TEST_CARD = "4111111111111111"  # Visa: the default profile provisions a network token


def sdk_config(
    bundle: dict[str, Any], bundle_dir: Path, base_url: str, auth: str
) -> dict[str, Any]:
    """The SDK's configuration for the bundle: only the host differs from CyberSource's."""
    config: dict[str, Any] = {
        "merchantid": bundle["merchantId"],
        "run_environment": base_url.split("://", 1)[-1].rstrip("/"),
        "IntermediateHost": base_url.rstrip("/"),
    }
    if auth == "http_signature":
        config |= {
            "authentication_type": "http_signature",
            "merchant_keyid": bundle["httpSignature"]["keyId"],
            "merchant_secretkey": bundle["httpSignature"]["sharedSecret"],
        }
    else:
        config |= {
            "authentication_type": "jwt",
            "keys_directory": str(bundle_dir.resolve()),
            "key_file_name": bundle["jwt"]["p12File"].removesuffix(".p12"),
            "key_alias": bundle["jwt"]["keyAlias"],
            "key_password": bundle["jwt"]["p12Password"],
        }
    return config


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path, help="the merchant's credentials bundle (<id>.json)")
    parser.add_argument(
        "--base-url",
        default="http://127.0.0.1:8080",
        help="the opentms server (default: %(default)s)",
    )
    parser.add_argument(
        "--auth",
        choices=["http_signature", "jwt"],
        default="http_signature",
        help="how the SDK signs: the bundle's shared secret or its P12 (default: %(default)s)",
    )
    args = parser.parse_args()
    bundle = json.loads(args.bundle.read_text())
    config = sdk_config(bundle, args.bundle.parent, args.base_url, args.auth)

    # Request bodies as JSON strings; the SDK's request models serialise to the same.
    ii, status, _ = InstrumentIdentifierApi(config).post_instrument_identifier_with_http_info(
        json.dumps({"card": {"number": TEST_CARD}})
    )
    print(f"instrument identifier  {ii.id} (HTTP {status})")
    customer, status, _ = CustomerApi(config).post_customer_with_http_info(
        json.dumps({"buyerInformation": {"email": "ada@example.com"}})
    )
    print(f"customer               {customer.id} (HTTP {status})")
    payment_instrument = {
        "card": {"expirationMonth": "12", "expirationYear": "2031", "type": "001"},
        "billTo": {"firstName": "Ada", "lastName": "Lovelace", "country": "GB"},
        "instrumentIdentifier": {"id": ii.id},
    }
    pi, status, _ = CustomerPaymentInstrumentApi(
        config
    ).post_customer_payment_instrument_with_http_info(customer.id, json.dumps(payment_instrument))
    print(f"payment instrument     {pi.id} (HTTP {status}, default: {pi.default})")

    jwe, status, _ = NetworkTokensApi(config).post_token_payment_credentials_with_http_info(
        customer.id, json.dumps({})
    )
    print(f"payment credentials    a {len(jwe)}-character JWE (HTTP {status})")
    private_pem = args.bundle.parent / bundle["paymentCredentials"]["privateKeyFile"]
    key = jwk.JWK.from_pem(private_pem.read_bytes())
    credentials = json.loads(JWEUtility.decrypt_jwe_response_using_private_key(key, jwe))

    token = credentials["tokenizedCard"]
    number = token["number"]
    print(f"network token          {number[:6]}{'X' * (len(number) - 10)}{number[-4:]}")
    print(f"expires                {token['expirationMonth']}/{token['expirationYear']}")
    print(f"ECI                    {token['eci']}")
    print(f"cryptogram             {'present' if token.get('cryptogram') else 'none'}")


if __name__ == "__main__":
    main()

"""Request payment credentials for a customer token with ``opentms.client``,
and print the network token (masked) and its ECI.

    .venv/bin/python examples/credentials.py credentials/acme.json
    .venv/bin/python examples/credentials.py credentials/acme.json --customer ID

The bundle is what ``opentms merchants create acme --out credentials`` wrote. Without
``--customer`` the script first creates a customer with a test card, so it runs against
an empty server; with it, ID is a customer with a default card (the one a first run
printed, say).
"""

from __future__ import annotations

import argparse

from opentms.client import (
    Address,
    Card,
    Client,
    CustomerBuyerInformation,
    CustomerRequest,
    LinkedInstrumentIdentifier,
    PaymentInstrumentCard,
    PaymentInstrumentRequest,
)


def create_customer(client: Client) -> str:
    """A customer whose default payment instrument is a Visa test card."""
    customer = client.customers.create(
        CustomerRequest(buyer_information=CustomerBuyerInformation(email="ada@example.com"))
    )
    client.customers.payment_instruments.create(
        customer.id,
        PaymentInstrumentRequest(
            card=PaymentInstrumentCard(expiration_month="12", expiration_year="2031"),
            bill_to=Address(first_name="Ada", last_name="Lovelace", country="GB"),
            instrument_identifier=LinkedInstrumentIdentifier(card=Card(number="4111111111111111")),
        ),
    )
    return customer.id


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", help="the merchant's credentials bundle (<merchant>.json)")
    parser.add_argument(
        "--base-url",
        default="http://127.0.0.1:8080",
        help="the opentms server (default: %(default)s)",
    )
    parser.add_argument(
        "--customer",
        help="an existing customer id with a default card (default: create one)",
    )
    args = parser.parse_args()

    with Client.from_credentials_file(args.bundle, base_url=args.base_url) as client:
        customer_id = args.customer or create_customer(client)
        credentials = client.tokens.decrypted_payment_credentials(customer_id)

    token = credentials.tokenized_card
    if token is None:
        raise SystemExit(f"customer {customer_id} has no network token")
    print(f"customer       {customer_id}")
    print(f"network token  {token.masked_number} ({token.type})")
    print(f"expires        {token.expiration_month}/{token.expiration_year}")
    print(f"ECI            {token.eci}")
    print(f"cryptogram     {'present' if token.cryptogram else 'none'}")


if __name__ == "__main__":
    main()

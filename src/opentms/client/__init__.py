"""opentms.client: a typed client for the CyberSource TMS API (opentms or CyberSource).

It imports nothing else from ``opentms``.
"""

from opentms.client._auth import HTTPSignatureAuth, JWTAuth
from opentms.client._transports import ASGIAppTransport

__all__ = ["ASGIAppTransport", "HTTPSignatureAuth", "JWTAuth"]

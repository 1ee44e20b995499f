"""opentms.testing: a real opentms sandbox for test suites.

```python
from opentms.testing import Sandbox

with Sandbox() as sandbox:
    merchant = sandbox.create_merchant("acme")
    config = merchant.python_sdk_configuration()  # the official Python SDK's
```

With pytest, the plugin (``opentms.testing.pytest_plugin``, registered as
``opentms``) gives the fixtures ``opentms_sandbox``, ``opentms_merchant`` and
``opentms_sdk_config``, and resets the sandbox before each test that uses them.
It talks to the server over HTTP only: nothing of the server runs in the
caller's process.
"""

from opentms.testing._admin import (
    AdminAPI,
    AdminRefused,
    AdminUnauthorized,
    SandboxError,
    SandboxStartFailed,
    ServerUnreachable,
)
from opentms.testing._credentials import MerchantCredentials
from opentms.testing._sandbox import Fault, Sandbox, SandboxClock

__all__ = [
    "AdminAPI",
    "AdminRefused",
    "AdminUnauthorized",
    "Fault",
    "MerchantCredentials",
    "Sandbox",
    "SandboxClock",
    "SandboxError",
    "SandboxStartFailed",
    "ServerUnreachable",
]

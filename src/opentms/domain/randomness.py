"""Where opentms draws the randomness of ids, token numbers and generated keys.

By default every draw comes from :mod:`secrets`. A sandbox started with
``--deterministic SEED`` installs a :class:`DeterministicSource` instead
(docs/sandbox.md "Deterministic mode"): then each draw is
``HMAC-SHA256(seed, purpose || n)`` where ``n`` is the next value of a counter
shared by every process of the server (a :class:`Counter`, over the database),
so that two fresh servers fed the same seed and the same requests, one after
another, answer the same ids even with several workers.

Two kinds of draw:

- :func:`token_bytes` and the helpers over it take the next value of the
  stream: ids, token numbers, merchants' generated keys;
- :func:`named_bytes` is a value fixed by its name alone (the server's own
  secrets): whichever process creates it first, and however often, it is the
  same, so that workers starting at once never consume the stream.

What stays random whatever the source: the master key, the admin token, RSA
keys and certificates (``cryptography`` cannot be seeded), JWE content keys
and IVs, AEAD nonces and cryptograms' unpredictable numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from opentms.domain.ports.randomness import Counter, RandomSource

__all__ = [
    "Counter",
    "DeterministicSource",
    "ProcessCounter",
    "RandomSource",
    "SystemSource",
    "current",
    "install",
    "named_bytes",
    "randbelow",
    "token_bytes",
    "token_hex",
]


class SystemSource:
    """The default: :mod:`secrets`, the operating system's CSPRNG."""

    deterministic = False

    def token_bytes(self, purpose: str, size: int) -> bytes:  # noqa: ARG002 - the port's signature
        return secrets.token_bytes(size)

    def named_bytes(self, name: str, size: int) -> bytes:  # noqa: ARG002 - the port's signature
        return secrets.token_bytes(size)

    def restart(self) -> None:
        """Nothing to restart: every draw is fresh."""


class ProcessCounter:
    """A :class:`Counter` of one process only, for a server whose database has
    no place for a shared one (an in-memory SQLite database)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def next(self) -> int:
        with self._lock:
            self._value += 1
            return self._value

    def restart(self) -> None:
        with self._lock:
            self._value = 0


class DeterministicSource:
    """Draws derived from a seed: ``HMAC-SHA256(seed, purpose || n)`` with
    ``n`` from the shared counter, blocks chained for sizes over 32 bytes."""

    deterministic = True

    def __init__(self, seed: str, counter: Counter) -> None:
        self._key = hashlib.sha256(b"opentms deterministic\x00" + seed.encode()).digest()
        self._counter = counter

    def token_bytes(self, purpose: str, size: int) -> bytes:
        return self._expand(f"stream\x00{purpose}\x00{self._counter.next()}", size)

    def named_bytes(self, name: str, size: int) -> bytes:
        return self._expand(f"named\x00{name}", size)

    def restart(self) -> None:
        self._counter.restart()

    def _expand(self, label: str, size: int) -> bytes:
        blocks = [
            hmac.new(self._key, f"{label}\x00{block}".encode(), hashlib.sha256).digest()
            for block in range((size + 31) // 32)
        ]
        return b"".join(blocks)[:size]


_source: RandomSource = SystemSource()


def install(source: RandomSource) -> RandomSource:
    """Make ``source`` the process's source of randomness; returns the one it
    replaces (give it back to :func:`install` to undo)."""
    # The process's one source, as the random module has its one generator.
    global _source
    previous, _source = _source, source
    return previous


def current() -> RandomSource:
    return _source


def token_bytes(purpose: str, size: int) -> bytes:
    return _source.token_bytes(purpose, size)


def token_hex(purpose: str, size: int) -> str:
    return token_bytes(purpose, size).hex()


def randbelow(purpose: str, bound: int) -> int:
    """A number in ``[0, bound)``. A deterministic draw reduces 128 bits more
    than ``bound`` modulo it, a bias under 2**-64 for the bounds used here."""
    if not _source.deterministic:
        return secrets.randbelow(bound)
    width = (bound.bit_length() + 7) // 8 + 16
    return int.from_bytes(_source.token_bytes(purpose, width)) % bound


def named_bytes(name: str, size: int) -> bytes:
    return _source.named_bytes(name, size)

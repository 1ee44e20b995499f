"""The randomness port (implementations: :mod:`opentms.domain.randomness`)."""

from __future__ import annotations

from typing import Protocol


class Counter(Protocol):
    """A counter every process of a server shares: each call of :meth:`next`
    answers a value no other call (in any process) answered since the last
    :meth:`restart`, counting up from 1."""

    def next(self) -> int: ...

    def restart(self) -> None:
        """Start again from 1 (a reset of the sandbox may)."""
        ...


class RandomSource(Protocol):
    """The randomness port: where ids, token numbers and generated keys come from."""

    @property
    def deterministic(self) -> bool: ...

    def token_bytes(self, purpose: str, size: int) -> bytes:
        """``size`` bytes of the stream; ``purpose`` names what they are for."""
        ...

    def named_bytes(self, name: str, size: int) -> bytes:
        """``size`` bytes for the secret called ``name``."""
        ...

    def restart(self) -> None:
        """Start the stream again from its beginning (deterministic sources)."""
        ...

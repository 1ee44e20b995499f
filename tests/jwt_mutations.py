"""Hypothesis strategies that mutate a genuine compact JWT the way an attacker
would (issue 9, point 1): JSON wrapping in every JWS JSON form, extra or
missing segments, junk characters, padding, non-canonical base64, duplicate
members, smuggled header or claims, case changes and whitespace.

Each strategy draws a string that differs from the genuine token; a server
must refuse every one of them. ``http_safe`` keeps to the characters an HTTP
field value can carry, so that the token reaches authentication at all.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import strategies as st

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Visible ASCII, space and tab: what a field value carries unchanged.
HTTP_CHARACTERS = st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.just("\t")
ANY_CHARACTERS = st.characters()
WHITESPACE = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\u00a0", "\u2028", "\u3000"]
HTTP_WHITESPACE = [" ", "\t"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode(segment: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return value


class Mutations:
    """The mutations of one genuine token, with the attacker's own header and
    claims (what they would like the server to read) at hand."""

    def __init__(
        self,
        genuine: str,
        attacker_header: dict[str, Any],
        attacker_claims: dict[str, Any],
        *,
        http_safe: bool,
    ) -> None:
        self.genuine = genuine
        self.segments = genuine.split(".")
        self.attacker = [b64url(json.dumps(attacker_header).encode())]
        self.attacker.append(b64url(json.dumps(attacker_claims).encode()))
        self.characters = HTTP_CHARACTERS if http_safe else ANY_CHARACTERS
        self.whitespace = HTTP_WHITESPACE if http_safe else WHITESPACE
        self.http_safe = http_safe

    def tokens(self) -> st.SearchStrategy[str]:
        single = st.one_of(
            self.json_wrapping(),
            self.segment_count(),
            self.junk(),
            self.padding(),
            self.non_canonical(),
            self.smuggled(),
            self.duplicate_members(),
            self.case_change(),
            self.whitespace_inserted(),
            self.substituted(),
        )
        stacked = st.builds(
            self._then_insert,
            single,
            st.integers(0, 1 << 16),
            st.one_of(self.characters, st.sampled_from(["=", ".", *self.whitespace])),
        )
        return st.one_of(single, stacked).filter(self._differs)

    def _differs(self, token: str) -> bool:
        if self.http_safe and token.endswith((" ", "\t")):
            # A field value cannot end with whitespace (HTTP drops it, and
            # clients refuse to send it): the token would arrive without it.
            return False
        return token != self.genuine

    @staticmethod
    def _then_insert(token: str, at: int, text: str) -> str:
        """A second mutation on top of the first: ``text`` inserted."""
        at %= len(token) + 1
        return token[:at] + text + token[at:]

    # The mutations ---------------------------------------------------------------------------

    def json_wrapping(self) -> st.SearchStrategy[str]:
        """The genuine signed object in a JWS JSON serialisation, the smuggled
        segments in a member (name or value), members in any order, any
        whitespace between tokens, and members repeated."""
        protected, payload, signature = [*self.segments, "", "", ""][:3]
        smuggled = f"{self.attacker[0]}.{self.attacker[1]}.{signature}"
        forms: list[list[tuple[str, Any]]] = [
            [("protected", protected), ("payload", payload), ("signature", signature)],
            [
                ("payload", payload),
                ("signatures", [{"protected": protected, "signature": signature}]),
            ],
            [
                ("protected", protected),
                ("header", {"cty": "JWT"}),
                ("payload", payload),
                ("signature", signature),
            ],
            [
                ("payload", payload),
                ("signatures", [{"protected": self.attacker[0], "signature": signature}]),
                ("signatures", [{"protected": protected, "signature": signature}]),
            ],
            [
                ("protected", self.attacker[0]),
                ("protected", protected),
                ("payload", payload),
                ("signature", signature),
            ],
        ]
        smuggling = st.sampled_from(
            [("", smuggled), (smuggled, ""), ("x", smuggled), ("payload", smuggled)]
        )
        return st.builds(
            self._json_text,
            st.sampled_from(forms).flatmap(st.permutations),
            st.one_of(st.none(), smuggling),
            st.integers(0, 4),
            st.lists(st.sampled_from(self.whitespace), min_size=1, max_size=4),
        )

    @staticmethod
    def _json_text(
        members: list[tuple[str, Any]],
        smuggling: tuple[str, str] | None,
        where: int,
        spaces: list[str],
    ) -> str:
        listed = list(members)
        if smuggling is not None:
            listed.insert(min(where, len(listed)), smuggling)
        parts = []
        for index, (name, value) in enumerate(listed):
            space = spaces[index % len(spaces)]
            parts.append(f"{json.dumps(name)}{space}:{space}{json.dumps(value)}")
        return "{" + spaces[0] + ("," + spaces[-1]).join(parts) + spaces[0] + "}"

    def segment_count(self) -> st.SearchStrategy[str]:
        """A segment dropped, repeated, added or moved."""
        segments = self.segments

        def dropped(index: int) -> str:
            return ".".join(s for i, s in enumerate(segments) if i != index % len(segments))

        def repeated(index: int) -> str:
            index %= len(segments)
            return ".".join(segments[: index + 1] + segments[index:])

        def added(extra: str, at: int) -> str:
            copy = list(segments)
            copy.insert(at % (len(copy) + 1), extra)
            return ".".join(copy)

        return st.one_of(
            st.builds(dropped, st.integers(0, 2)),
            st.builds(repeated, st.integers(0, 2)),
            st.builds(added, st.text(ALPHABET, max_size=8), st.integers(0, 3)),
            st.permutations(segments).map(".".join),
            st.just(self.genuine + "."),
            st.just("." + self.genuine),
            st.just(self.genuine.replace(".", "..", 1)),
        )

    def junk(self) -> st.SearchStrategy[str]:
        """A character inserted anywhere, from the whole of Unicode (or of
        what HTTP carries), '.', '=', '+', '/' and NUL included."""
        special = st.sampled_from([".", "=", "+", "/", "\x00", "%", "{", '"'])
        if self.http_safe:
            special = st.sampled_from([".", "=", "+", "/", "%", "{", '"'])
        return st.builds(
            self._insert, st.integers(0, len(self.genuine)), st.one_of(self.characters, special)
        )

    def _insert(self, at: int, text: str) -> str:
        return self.genuine[:at] + text + self.genuine[at:]

    def padding(self) -> st.SearchStrategy[str]:
        def padded(index: int, count: int) -> str:
            copy = list(self.segments)
            index %= len(copy)
            copy[index] += "=" * count
            return ".".join(copy)

        return st.builds(padded, st.integers(0, 2), st.integers(1, 3))

    def non_canonical(self) -> st.SearchStrategy[str]:
        """A segment's last character changed in its unused bits only: the
        same bytes to a lenient decoder, another spelling to a strict one."""

        def respelled(index: int, bits: int) -> str:
            copy = list(self.segments)
            index %= len(copy)
            value = copy[index]
            unused = {2: 4, 3: 2}.get(len(value) % 4, 0)
            if not value or unused == 0:
                copy[index] = value + "A"  # no unused bits: one character too many
            else:
                position = ALPHABET.index(value[-1])
                flip = bits % ((1 << unused) - 1) + 1
                copy[index] = value[:-1] + ALPHABET[position ^ flip]
            return ".".join(copy)

        return st.builds(respelled, st.integers(0, 2), st.integers(0, 15))

    def smuggled(self) -> st.SearchStrategy[str]:
        """The attacker's header or claims (or both) with the genuine signature."""

        def swapped(which: int) -> str:
            copy = list(self.segments)
            if which in (0, 2):
                copy[0] = self.attacker[0]
            if which in (1, 2):
                copy[1] = self.attacker[1]
            return ".".join(copy)

        return st.builds(swapped, st.integers(0, 2))

    def duplicate_members(self) -> st.SearchStrategy[str]:
        """The header or claims re-encoded with a member repeated (the first
        or the last occurrence the attacker's), the genuine signature kept."""
        header, claims = decode(self.segments[0]), decode(self.segments[1])
        attacker_claims = decode(self.attacker[1])

        def duplicated(in_claims: bool, name_index: int, attacker_first: bool) -> str:
            genuine = claims if in_claims else header
            names = sorted(genuine)
            name = names[name_index % len(names)]
            theirs = attacker_claims.get(name, "attacker") if in_claims else "HS256"
            pairs = [f"{json.dumps(k)}:{json.dumps(v)}" for k, v in genuine.items()]
            extra = f"{json.dumps(name)}:{json.dumps(theirs)}"
            pairs = [extra, *pairs] if attacker_first else [*pairs, extra]
            encoded = b64url(("{" + ",".join(pairs) + "}").encode())
            copy = list(self.segments)
            copy[1 if in_claims else 0] = encoded
            return ".".join(copy)

        return st.builds(duplicated, st.booleans(), st.integers(0, 20), st.booleans())

    def case_change(self) -> st.SearchStrategy[str]:
        letters = [i for i, c in enumerate(self.genuine) if c.isalpha()]

        def changed(index: int) -> str:
            at = letters[index % len(letters)]
            return self.genuine[:at] + self.genuine[at].swapcase() + self.genuine[at + 1 :]

        return st.one_of(
            st.builds(changed, st.integers(0, len(letters) - 1)),
            st.just(self.genuine.swapcase()),
        )

    def whitespace_inserted(self) -> st.SearchStrategy[str]:
        return st.builds(
            self._insert, st.integers(0, len(self.genuine)), st.sampled_from(self.whitespace)
        )

    def substituted(self) -> st.SearchStrategy[str]:
        """One base64url character replaced by another."""

        def replaced(at: int, by: str) -> str:
            if self.genuine[at] == ".":
                return self.genuine[:at] + by + self.genuine[at:]
            return self.genuine[:at] + by + self.genuine[at + 1 :]

        return st.builds(
            replaced, st.integers(0, len(self.genuine) - 1), st.sampled_from(list(ALPHABET))
        )

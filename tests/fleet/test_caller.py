"""The caller as STS names them: SourceIdentity is one-to-one with the signed-in identity."""

from __future__ import annotations

import re

from app.fleet.targets import Caller

STS_SOURCE_IDENTITY = re.compile(r"^[\w+=,.@-]{2,64}$")


def test_an_identity_sts_takes_as_it_is_is_kept() -> None:
    assert Caller("alice@example.com").source_identity == "alice@example.com"
    assert (
        Caller("0f3c9a2e-11aa-4b5c-9d7e-0123456789ab").source_identity
        == "0f3c9a2e-11aa-4b5c-9d7e-0123456789ab"
    )


def test_identities_sts_would_not_take_never_collide_and_always_fit() -> None:
    odd = ["a|b", "a-b", "a b", "x", "", "é", "p" * 64, "p" * 65, "p" * 64 + "q", "auth0|" + "9" * 70]
    named = [Caller(identity).source_identity for identity in odd]
    assert all(STS_SOURCE_IDENTITY.fullmatch(name) for name in named), named
    assert len(set(named)) == len(odd)
    assert named[0].startswith("a-b.")  # readable, and not a-b's own
    assert named[1] == "a-b"

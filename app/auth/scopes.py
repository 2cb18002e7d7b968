"""Which scopes a JSON-RPC call needs: read for every request (lists, reads, prompts, the handshake), read
and write for a call that can change the account. Decided from the parsed body at the edge, before the SDK
runs anything, so a call without its scope gets 403 ``insufficient_scope`` and no tool code runs."""

from __future__ import annotations

from dataclasses import dataclass

# The tools that can change the account. tests/test_auth_scopes.py checks this against the surface's
# tool annotations, so a new write tool cannot be served with only the read scope.
ALWAYS_WRITE = frozenset({"invoke-function", "run-runtime-campaign"})
# A write unless the call asks for a dry run: dry_run absent (the default, true) or true is a read.
# Anything else — false, "false", 0, null — may be coerced to false by the SDK's validation: a write.
WRITE_UNLESS_DRY_RUN = frozenset({"update-function-runtime"})


@dataclass(frozen=True)
class Scopes:
    read: str
    write: str

    def needed(self, message: object) -> tuple[str, ...]:
        return (self.read, self.write) if is_write(message) else (self.read,)

    def supported(self) -> list[str]:
        return [self.read, self.write]


def is_write(message: object) -> bool:
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return False
    params = message.get("params")
    if not isinstance(params, dict):
        return False
    name = params.get("name")
    if name in ALWAYS_WRITE:
        return True
    if name in WRITE_UNLESS_DRY_RUN:
        arguments = params.get("arguments")
        if not isinstance(arguments, dict):
            return False  # no arguments: dry_run defaults to true (the SDK refuses the missing ones)
        return "dry_run" in arguments and arguments["dry_run"] is not True
    return False

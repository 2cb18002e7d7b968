"""Write gating: which functions this server may invoke or change.

Three settings, all of which must allow a write: ``allow_writes`` (off by default), an allowlist of
function-name prefixes, and a required tag ``key=value``. The first two are decided from the name alone,
before any AWS call; the tag needs one read (``ListTags``), never a write. Messages name the environment
variable that refuses, so an operator knows what to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.lambda_ops.errors import OpsFailure, refused

ALLOW_WRITES = "LAMBDA_OPS_ALLOW_WRITES"
PREFIXES = "LAMBDA_OPS_WRITE_FUNCTION_PREFIXES"
TAG = "LAMBDA_OPS_WRITE_TAG"


def function_name_of(identifier: str) -> str:
    """The bare function name of a name, partial ARN or ARN, without any version/alias qualifier:
    ``arn:aws:lambda:us-east-1:123456789012:function:orders:live`` → ``orders``."""
    parts = identifier.split(":")
    if "function" in parts:
        index = parts.index("function")
        if index + 1 < len(parts):
            return parts[index + 1]
    return parts[0]


@dataclass(frozen=True)
class WritePolicy:
    allow_writes: bool = False
    function_prefixes: tuple[str, ...] = ()
    tag: tuple[str, str] | None = None  # (key, value)
    own_function: str | None = None  # this server's own function: never invoked or changed by it
    also_own: tuple[str, ...] = ()  # the other functions of this deployment (the task worker, the server)

    @classmethod
    def from_values(
        cls,
        allow_writes: bool,
        prefixes: Iterable[str] = (),
        tag: str = "",
        own_function: str | None = None,
        also_own: Iterable[str] = (),
    ) -> WritePolicy:
        """From the settings' plain values; ``tag`` is ``"key=value"`` or empty; ``own_function`` is the
        name of the function this server runs as (``AWS_LAMBDA_FUNCTION_NAME`` on Lambda)."""
        required: tuple[str, str] | None = None
        if tag.strip():
            key, sep, value = tag.strip().partition("=")
            if not sep or not key.strip():
                raise ValueError(f"{TAG} must look like key=value, got {tag!r}")
            required = (key.strip(), value.strip())
        return cls(
            allow_writes=allow_writes,
            function_prefixes=tuple(p.strip() for p in prefixes if p.strip()),
            tag=required,
            own_function=own_function or None,
            also_own=tuple(name for name in also_own if name),
        )

    @property
    def needs_tags(self) -> bool:
        return self.tag is not None

    def describe(self) -> str:
        if not self.allow_writes:
            return f"writes disabled ({ALLOW_WRITES}=false)"
        rules = []
        if self.function_prefixes:
            rules.append(f"function names starting with {', '.join(map(repr, self.function_prefixes))}")
        if self.tag is not None:
            rules.append(f"functions tagged {self.tag[0]}={self.tag[1]}")
        return "writes allowed" + (" only for " + " and ".join(rules) if rules else " for every function")

    def check_name(self, function: str) -> OpsFailure | None:
        """The refusal decided without calling AWS, or None."""
        if not self.allow_writes:
            return refused(
                f"This server does not change or invoke functions: writes are disabled ({ALLOW_WRITES} is "
                f"false). An operator must set {ALLOW_WRITES}=true to allow it. Read-only operations still "
                "work.",
                ALLOW_WRITES,
            )
        name = function_name_of(function)
        if name == self.own_function or name in self.also_own:
            return refused(
                f"Function '{name}' is this server itself: it never invokes or changes its own function "
                "(a failed runtime change would take the server down mid-call). Change it with your "
                "deployment tooling.",
                ALLOW_WRITES,
            )
        if self.function_prefixes and not name.startswith(self.function_prefixes):
            allowed = ", ".join(repr(p) for p in self.function_prefixes)
            return refused(
                f"Function '{name}' is outside this server's write allowlist: {PREFIXES} allows only names "
                f"starting with {allowed}. Pick an allowed function or ask an operator to extend {PREFIXES}.",
                PREFIXES,
            )
        return None

    def check_tags(self, function: str, tags: Mapping[str, str]) -> OpsFailure | None:
        """The refusal decided from the function's tags, or None."""
        if self.tag is None:
            return None
        key, value = self.tag
        if tags.get(key) != value:
            found = f"its {key} tag is {tags[key]!r}" if key in tags else f"it has no {key} tag"
            return refused(
                f"Function '{function_name_of(function)}' may not be written: {TAG} requires the tag "
                f"{key}={value} and {found}. Tag the function (an operator's decision) or choose another.",
                TAG,
            )
        return None

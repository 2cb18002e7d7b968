"""What a fleet needs of moto that moto 5.2.5 does not do — patched on its server side, inside the sandbox.

- AssumeRole always succeeds in moto: it never checks that the role exists, nor its trust policy, so a
  fleet's "access denied" path could not be seen locally. The patch answers as AWS does when the role is
  missing in the target account or its trust policy does not allow the caller: HTTP 403, ``AccessDenied``,
  "User: <caller> is not authorized to perform: sts:AssumeRole on resource: <role>" (STS's XML error). The
  trust check here: an ``Allow`` statement for ``sts:AssumeRole`` whose ``Principal.AWS`` is ``*``, the
  caller's account (id or ``:root``), the caller's role or user ARN; ``Condition`` blocks are not evaluated
  (the sandbox's callers carry no tags, source identity or organization id to test them on).
- Organizations names the management account "master" (AWS: the account's own name): the patch names it
  ``MANAGEMENT_ACCOUNT_NAME``.
- Organizations' ``CreateAccount`` makes up a random account id, so a seeded organisation could not hold the
  sandbox's fixed accounts. The patch takes the id from the tag ``ACCOUNT_ID_TAG`` on the request, when
  present (and keeps that tag off the account).

``install()`` is idempotent; the sandbox child calls it before seeding.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from xml.sax.saxutils import escape

ACCOUNT_ID_TAG = "lambda-ops-sandbox:account-id"
MANAGEMENT_ACCOUNT_NAME = "platform-home"
_ACCOUNT_ID = re.compile(r"^\d{12}$")

_lock = threading.Lock()
_next_account_id = threading.local()
_installed: list[tuple[Any, str, Callable[..., Any]]] = []


def trusts(policy: dict[str, Any], caller_arn: str, caller_account: str) -> bool:
    """Whether a role's trust policy lets this caller assume it (principals only, no conditions)."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    role_arn = _role_arn(caller_arn)
    accepted = {"*", caller_account, f"arn:aws:iam::{caller_account}:root", caller_arn, role_arn}
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = statement.get("Principal", {})
        if principal == "*":
            return True
        aws = principal.get("AWS", []) if isinstance(principal, dict) else []
        aws = [aws] if isinstance(aws, str) else aws
        if accepted & set(aws):
            return True
    return False


def install() -> None:
    from moto.organizations import utils as organizations_utils
    from moto.organizations.models import OrganizationsBackend
    from moto.sts.responses import TokenResponse

    with _lock:
        if _installed:
            return
        original_assume = TokenResponse.assume_role
        original_create = OrganizationsBackend.create_account
        original_random_id = organizations_utils.make_random_account_id
        original_organization = OrganizationsBackend.create_organization

        def assume_role(self: Any) -> Any:
            refusal = _refusal(self)
            return refusal if refusal is not None else original_assume(self)

        def create_account(self: Any, **kwargs: Any) -> dict[str, Any]:
            tags = kwargs.get("Tags") or []
            wanted = next((t["Value"] for t in tags if t.get("Key") == ACCOUNT_ID_TAG), None)
            if wanted is None or not _ACCOUNT_ID.match(wanted):
                return dict(original_create(self, **kwargs))
            kwargs["Tags"] = [t for t in tags if t.get("Key") != ACCOUNT_ID_TAG]
            _next_account_id.value = wanted
            try:
                return dict(original_create(self, **kwargs))
            finally:
                _next_account_id.value = None

        def create_organization(self: Any, region: str, **kwargs: Any) -> dict[str, Any]:
            described = dict(original_organization(self, region, **kwargs))
            for account in self.accounts:
                if account.id == self.account_id:
                    account.name = MANAGEMENT_ACCOUNT_NAME
            return described

        def make_random_account_id() -> str:
            wanted = getattr(_next_account_id, "value", None)
            return str(wanted) if wanted else str(original_random_id())

        for owner, name, patched, original in (
            (TokenResponse, "assume_role", assume_role, original_assume),
            (OrganizationsBackend, "create_account", create_account, original_create),
            (OrganizationsBackend, "create_organization", create_organization, original_organization),
            (organizations_utils, "make_random_account_id", make_random_account_id, original_random_id),
        ):
            setattr(owner, name, patched)
            _installed.append((owner, name, original))


def uninstall() -> None:
    with _lock:
        for owner, name, original in reversed(_installed):
            setattr(owner, name, original)
        _installed.clear()


@contextmanager
def fleet_patches() -> Iterator[None]:
    """For tests: moto refuses untrusted AssumeRole calls and keeps chosen account ids, inside the block."""
    install()
    try:
        yield
    finally:
        uninstall()


def _refusal(response: Any) -> tuple[int, dict[str, str], str] | None:
    """AWS's AccessDenied for this AssumeRole request, or None when the role exists and trusts the caller."""
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends

    role_arn = str(response._get_param("RoleArn") or "")
    match = re.match(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$", role_arn)
    _, caller_arn, caller_account = response.backend.get_caller_identity(
        response.get_access_key(), response.region
    )
    if match is not None:
        account, name = match.groups()
        try:
            role = iam_backends[account]["global"].get_role(name)
        except NotFoundException:
            role = None
        if role is not None:
            try:
                policy = json.loads(role.assume_role_policy_document or "{}")
            except ValueError:
                policy = {}
            if trusts(policy, str(caller_arn), str(caller_account)):
                return None
    message = f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return 403, {"Content-Type": "text/xml", "status": "403"}, body  # moto reads the "status" header


def _role_arn(caller_arn: str) -> str:
    """``arn:aws:sts::A:assumed-role/R/session`` → ``arn:aws:iam::A:role/R`` (what trust policies name)."""
    match = re.match(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/", caller_arn)
    if match is None:
        return caller_arn
    partition, account, role = match.groups()
    return f"arn:{partition}:iam::{account}:role/{role}"

"""The sandbox's runtime campaign (README "Runtime campaigns"): aliases ``live`` on some of the seeded old
Node.js functions, so a campaign shipped through ``live`` publishes, smoke tests and shifts traffic by its
canary for them, and changes ``$LATEST`` all at once for the others. With the faults of
``campaign_faults`` (installed with it): ``legacy-checkout-webhook``'s smoke test fails (rolled back) and
``user-profile-api``'s canary breaches the error gate (rolled back); the rest are upgraded.
"""

from __future__ import annotations

from typing import Any

ALIAS = "live"
# Behind ``live``: version 1, published from the seeded configuration (the canary's "old version").
BEHIND_ALIAS: tuple[str, ...] = ("user-profile-api", "slack-alerts-forwarder", "marketing-landing-ssr")
# The walk-through's selection: every seeded function on Node.js 16 or 18.
RUNTIMES: tuple[str, ...] = ("nodejs16.x", "nodejs18.x")


def seed_campaign(lambda_client: Any, names: tuple[str, ...] = BEHIND_ALIAS) -> int:
    """Publish version 1 of each function in ``names`` and point alias ``live`` at it; the count."""
    for name in names:
        version = lambda_client.publish_version(FunctionName=name, Description="before the campaign")
        lambda_client.create_alias(
            FunctionName=name, Name=ALIAS, FunctionVersion=version["Version"], Description="production"
        )
    return len(names)

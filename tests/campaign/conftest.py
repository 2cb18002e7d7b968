from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from app.local import campaign_faults
from tests.campaign.fleet import HOME, MEMBER, NEW, Account, Fleet, create, member_session


@pytest.fixture
def fleet(aws_env: None) -> Iterator[Fleet]:
    """Home: 6 functions; member: 4. ``api-*`` busy behind alias live; ``idle-*`` without traffic;
    ``breaks-home`` fails on the new runtime (smoke test); ``canary-member`` fails under canary traffic."""
    campaign_faults.install({"breaks-home": NEW}, {"canary-member"})
    try:
        with mock_aws(config={"lambda": {"use_docker": False}}):
            found = Fleet()
            found.accounts[HOME] = Account(HOME, boto3.session.Session())
            found.accounts[MEMBER] = Account(MEMBER, member_session())
            home, member = found.accounts[HOME], found.accounts[MEMBER]
            for i in (1, 2):
                create(home, f"idle-home-{i}")
            create(home, "api-home-a", alias=True, invocations=500)
            create(home, "api-home-b", alias=True, invocations=90_000)
            create(home, "plain-home", invocations=40)
            create(home, "breaks-home", alias=True, invocations=70)
            create(member, "idle-member")
            create(member, "api-member", alias=True, invocations=1_000)
            create(member, "canary-member", alias=True, invocations=800)
            create(member, "plain-member", invocations=30)
            yield found
    finally:
        campaign_faults.uninstall()

"""No output of the domain ever carries a secret environment value or the presigned code URL."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.local.seed_data import FUNCTIONS, SECRET_VALUES
from tests.lambda_ops.helpers import ops_for

CODE_URL_MARKERS = ("awslambda-", "X-Amz-", "amazonaws.com/snapshots", '"Location"')


def assert_clean(result: BaseModel) -> None:
    text = result.model_dump_json()
    for secret in SECRET_VALUES:
        assert secret not in text
    for marker in CODE_URL_MARKERS:
        assert marker not in text


def test_every_output_on_the_seeded_account(moto_lambda: Any) -> None:
    lambda_ops = ops_for(moto_lambda)
    outputs: list[Any] = [
        lambda_ops.list_functions(),
        lambda_ops.list_functions(runtime="nodejs", page_size=5),
        lambda_ops.audit_runtimes(),
        lambda_ops.audit_runtimes(family="python", names_per_group=100),
        lambda_ops.runtime_info(),
    ]
    outputs += [lambda_ops.get_function(f.name) for f in FUNCTIONS]
    secret_holders = [f.name for f in FUNCTIONS if set(f.environment.values()) & SECRET_VALUES]
    assert secret_holders
    for name in secret_holders:
        outputs.append(lambda_ops.update_runtime(name, "nodejs24.x", dry_run=True))
        outputs.append(lambda_ops.invoke(name, '{"probe": true}', log_tail=True))
    outputs.append(lambda_ops.update_runtime("legacy-checkout-webhook", "nodejs24.x", smoke_payload="{}"))
    for output in outputs:
        assert isinstance(output, BaseModel)
        assert_clean(output)
    # The seeded secrets really are in the account: the check above is not vacuous.
    raw = moto_lambda.get_function(FunctionName="checkout-session-handler")
    assert set(raw["Configuration"]["Environment"]["Variables"].values()) & SECRET_VALUES
    assert raw["Code"]["Location"].startswith("https://awslambda-")

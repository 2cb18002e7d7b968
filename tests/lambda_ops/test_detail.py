"""get-function: configuration, tags, concurrency and runtime status — sanitised."""

from __future__ import annotations

from typing import Any

from app.lambda_ops import ErrorKind, FunctionDetail, OpsError, RuntimeStatus
from app.local.seed_data import STRIPE_SECRET_KEY
from tests.lambda_ops.helpers import client_error, configuration, ops_for, stubbed_client

PRESIGNED = "https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/snapshots/123/f?X-Amz-Signature=abc"


def detail(result: FunctionDetail | OpsError) -> FunctionDetail:
    assert isinstance(result, FunctionDetail), result
    return result


def test_a_seeded_function(moto_lambda: Any) -> None:
    result = detail(ops_for(moto_lambda).get_function("checkout-session-handler"))
    assert result.environment_variable_names == ["STRIPE_API_VERSION", "STRIPE_SECRET_KEY"]
    assert result.runtime.runtime == "nodejs22.x"
    assert result.runtime.status is RuntimeStatus.DEPRECATING_SOON
    assert result.runtime.recommended_target == "nodejs24.x"
    assert result.tags["team"] == "payments"
    assert result.code_repository_type == "S3"
    text = result.model_dump_json()
    assert STRIPE_SECRET_KEY not in text
    assert "awslambda-" not in text
    assert "Location" not in text


def test_reserved_concurrency_and_images(moto_lambda: Any) -> None:
    lambda_ops = ops_for(moto_lambda)
    assert detail(lambda_ops.get_function("orders-api-prod")).reserved_concurrency == 200
    assert detail(lambda_ops.get_function("orders-api-staging")).reserved_concurrency is None
    image = detail(lambda_ops.get_function("video-transcode-worker"))
    assert image.package_type == "Image"
    assert image.runtime.status is RuntimeStatus.NOT_APPLICABLE
    assert image.image_uri is not None
    assert image.image_uri.endswith("video-transcode:1.14.0")


def test_every_secret_field_is_dropped() -> None:
    client, stubber = stubbed_client()
    config = configuration(
        "payments", "python3.9",
        Environment={
            "Variables": {"DB_PASSWORD": "hunter2-secret", "API_KEY": "sk_live_zzz"},
            "Error": {"ErrorCode": "KMSAccessDenied", "Message": "could not decrypt hunter2-secret"},
        },
        ImageConfigResponse={"ImageConfig": {"Command": ["--token=sk_live_zzz"]}},
        KMSKeyArn="arn:aws:kms:us-east-1:123456789012:key/k",
        Layers=[{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:deps:3", "CodeSize": 10}],
        VpcConfig={"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"], "VpcId": "vpc-1"},
    )  # fmt: skip
    stubber.add_response(
        "get_function",
        {
            "Configuration": config,
            "Code": {"RepositoryType": "S3", "Location": PRESIGNED},
            "Tags": {"team": "payments"},
            "Concurrency": {"ReservedConcurrentExecutions": 5},
        },
        {"FunctionName": "payments"},
    )
    stubber.add_response(
        "get_layer_version",
        {"Version": 3, "CompatibleRuntimes": ["python3.9"], "CompatibleArchitectures": ["x86_64"]},
        {"LayerName": "arn:aws:lambda:us-east-1:123456789012:layer:deps", "VersionNumber": 3},
    )
    stubber.add_response("list_aliases", {"Aliases": []}, {"FunctionName": "payments", "MaxItems": 50})
    result = detail(ops_for(client).get_function("payments"))
    stubber.assert_no_pending_responses()
    text = result.model_dump_json()
    for secret in ("hunter2-secret", "sk_live_zzz", PRESIGNED, "X-Amz-Signature", "could not decrypt"):
        assert secret not in text
    assert result.environment_variable_names == ["API_KEY", "DB_PASSWORD"]
    assert result.kms_key_arn
    assert [layer.arn for layer in result.layers] == ["arn:aws:lambda:us-east-1:123456789012:layer:deps:3"]
    assert result.layers[0].compatible_runtimes == ["python3.9"]
    assert result.aliases == []
    assert (result.vpc_subnet_ids, result.reserved_concurrency) == (["subnet-1"], 5)
    assert result.runtime.status is RuntimeStatus.DEPRECATED
    assert str(result.runtime.block_function_update) == "2027-03-03"


def test_not_found_and_missing_name() -> None:
    client, stubber = stubbed_client()
    stubber.add_client_error("get_function", **client_error("ResourceNotFoundException", status=404))
    lambda_ops = ops_for(client)
    missing = lambda_ops.get_function("nope")
    assert isinstance(missing, OpsError)
    assert missing.kind is ErrorKind.NOT_FOUND
    assert "'nope'" in missing.message
    blank = lambda_ops.get_function("  ")
    assert isinstance(blank, OpsError)
    assert blank.kind is ErrorKind.INVALID_ARGUMENT

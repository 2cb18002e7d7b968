"""The local API Gateway's event and response mapping (payload 2.0), checked against Mangum's reading."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
import time
from typing import Any

import pytest
from mangum import Mangum
from mangum.handlers.api_gateway import HTTPGateway
from starlette.types import Receive, Scope, Send

from app.local.context import LambdaContext
from app.local.events import gateway_error, gateway_response, http_api_event, new_request_id
from tests.helpers import load_event

BROWSER_HEADERS = [
    ("Host", "127.0.0.1:3000"),
    ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"),
    ("Accept", "application/json, text/event-stream"),
    ("Content-Type", "application/json"),
    ("Origin", "http://localhost:6274"),
    ("Cookie", "theme=dark; session=abc123"),
    ("X-Custom", "one"),
    ("x-custom", "two"),
    ("MCP-Protocol-Version", "2025-11-25"),
]
BODY = b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
LAMBDA_CONFIG: dict[str, Any] = {
    "api_gateway_base_path": "/",
    "text_mime_types": ["text/", "application/json"],
    "exclude_headers": [],
}


def build(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "method": "POST",
        "raw_path": "/mcp",
        "query_string": "",
        "headers": BROWSER_HEADERS,
        "body": BODY,
        "source_ip": "127.0.0.1",
    }
    args.update(overrides)
    return http_api_event(**args)


def test_event_has_the_shape_and_types_of_a_real_http_api_event() -> None:
    event = build(query_string="verbose=1&tag=a&tag=b", now=1795521600.0)
    real = load_event("http_api_v2")  # recorded shape of a deployed HTTP API's event
    assert set(real) - {"body"} <= set(event)
    assert set(real["requestContext"]) == set(event["requestContext"])
    assert set(real["requestContext"]["http"]) == set(event["requestContext"]["http"])
    for key in ("version", "routeKey", "rawPath", "rawQueryString", "isBase64Encoded"):
        assert type(event[key]) is type(real[key]), key
    for key, value in real["requestContext"].items():
        assert type(event["requestContext"][key]) is type(value), key

    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "$default"
    assert event["rawPath"] == "/mcp"
    assert event["rawQueryString"] == "verbose=1&tag=a&tag=b"
    assert event["queryStringParameters"] == {"verbose": "1", "tag": "a,b"}
    context = event["requestContext"]
    assert context["accountId"] == "123456789012"
    assert re.fullmatch(r"[a-z0-9]{10}", context["apiId"])
    assert context["domainName"] == "127.0.0.1"
    assert context["domainPrefix"] == "127"
    assert context["stage"] == "$default"
    assert context["http"] == {
        "method": "POST",
        "path": "/mcp",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
    }
    assert context["time"] == "24/Nov/2026:12:00:00 +0000"
    assert context["timeEpoch"] == 1795521600000
    assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", context["requestId"])


def test_headers_are_lowercased_joined_and_cookies_moved() -> None:
    event = build()
    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    assert headers["x-custom"] == "one,two"
    assert headers["mcp-protocol-version"] == "2025-11-25"
    assert "cookie" not in headers
    assert event["cookies"] == ["theme=dark", "session=abc123"]


def test_text_body_stays_text_and_binary_body_is_base64() -> None:
    text = build()
    assert text["body"] == BODY.decode()
    assert text["isBase64Encoded"] is False

    binary = b"\x89PNG\r\n\x1a\n\x00\xff"
    image = build(headers=[("Host", "localhost:3000"), ("Content-Type", "image/png")], body=binary)
    assert image["isBase64Encoded"] is True
    assert base64.b64decode(image["body"]) == binary

    json_type = [("Host", "localhost"), ("Content-Type", "application/json")]
    not_utf8 = build(headers=json_type, body=b"\xff\xfe{}")
    assert not_utf8["isBase64Encoded"] is True

    untyped = build(headers=[("Host", "localhost")], body=b"plain words")
    assert untyped["isBase64Encoded"] is True  # no content type: not known to be text


def test_no_body_and_no_query() -> None:
    event = build(method="GET", body=b"", headers=[("Host", "localhost:3000")])
    assert "body" not in event
    assert event["isBase64Encoded"] is False
    assert "queryStringParameters" not in event
    assert "cookies" not in event
    assert event["requestContext"]["domainName"] == "localhost"
    assert event["requestContext"]["http"]["userAgent"] == ""


def test_domain_name_is_the_apis_own_when_given() -> None:
    event = build(headers=[("Host", "evil.example.com:3000")], domain_name="127.0.0.1")
    assert event["requestContext"]["domainName"] == "127.0.0.1"
    assert event["headers"]["host"] == "evil.example.com:3000"  # passed on for the handler to refuse


def test_ipv6_host_keeps_its_brackets() -> None:
    assert build(headers=[("Host", "[::1]:3000")])["requestContext"]["domainName"] == "[::1]"


def test_request_ids_are_unique() -> None:
    assert len({new_request_id() for _ in range(1000)}) == 1000
    assert len({build()["requestContext"]["requestId"] for _ in range(100)}) == 100


def test_mangum_reads_the_event_as_an_http_api_request() -> None:
    event = build(raw_path="/mcp/", query_string="a=1&a=2")
    context = LambdaContext()
    assert HTTPGateway.infer(event, context, LAMBDA_CONFIG)
    gateway = HTTPGateway(event, context, LAMBDA_CONFIG)
    scope = gateway.scope
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    assert scope["method"] == "POST"
    assert scope["path"] == "/mcp/"
    assert scope["query_string"] == b"a=1&a=2"
    assert scope["client"] == ("127.0.0.1", 0)
    assert scope["server"] == ("127.0.0.1", 3000)
    assert headers["cookie"] == "theme=dark; session=abc123"
    assert headers["origin"] == "http://localhost:6274"
    assert gateway.body == BODY


def test_round_trip_through_mangum_and_back() -> None:
    """Request → event → Mangum → ASGI app → Mangum's payload 2.0 result → HTTP response."""
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        seen["body"], seen["path"] = message["body"], scope["path"]
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [
                    (b"content-type", b"application/octet-stream"),
                    (b"set-cookie", b"a=1; Path=/"),
                    (b"set-cookie", b"b=2; Path=/"),
                    (b"x-multi", b"1"),
                    (b"x-multi", b"2"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"\x00\x01binary\xff"})

    binary = bytes(range(256))
    octets = [("Host", "127.0.0.1:3000"), ("Content-Type", "application/octet-stream")]
    event = build(headers=octets, body=binary)
    result = _in_own_thread(lambda: Mangum(app, lifespan="off")(event, LambdaContext()))
    assert seen == {"body": binary, "path": "/mcp"}
    response = gateway_response(result, "Req1")
    assert response.status == 201
    assert response.body == b"\x00\x01binary\xff"
    assert ("set-cookie", "a=1; Path=/") in response.headers
    assert ("set-cookie", "b=2; Path=/") in response.headers
    assert ("x-multi", "1,2") in response.headers
    assert ("apigw-requestid", "Req1") in response.headers


def test_result_without_status_code_is_a_json_200() -> None:
    response = gateway_response({"hello": "world"}, "R")
    assert response.status == 200
    assert json.loads(response.body) == {"hello": "world"}
    assert ("content-type", "application/json") in response.headers
    assert gateway_response("plain", "R").body == b'"plain"'


def test_multi_value_headers_and_hop_by_hop_headers() -> None:
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain", "Content-Length": "999", "Connection": "close"},
        "multiValueHeaders": {"X-Two": ["a", "b"]},
        "body": "ok",
    }
    response = gateway_response(result, "R")
    assert response.body == b"ok"
    assert ("content-type", "text/plain") in response.headers
    assert [v for k, v in response.headers if k == "x-two"] == ["a", "b"]
    assert not {"content-length", "connection"} & {k for k, _ in response.headers}


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200", "body": "x"},
        {"statusCode": 99},
        {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"unserialisable": object()},
    ],
)
def test_malformed_results_are_api_gateways_500(result: object) -> None:
    response = gateway_response(result, "R")
    assert response.status == 500
    assert json.loads(response.body) == {"message": "Internal Server Error"}


def test_gateway_error() -> None:
    response = gateway_error(503, "Service Unavailable", "R")
    assert (response.status, json.loads(response.body)) == (503, {"message": "Service Unavailable"})


def test_lambda_context() -> None:
    first, second = LambdaContext(timeout_s=2.0), LambdaContext()
    assert first.aws_request_id != second.aws_request_id
    assert first.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:lambda-ops-mcp"
    assert first.log_stream_name == second.log_stream_name  # one execution environment
    assert first.log_group_name == "/aws/lambda/lambda-ops-mcp"
    assert 1500 < first.get_remaining_time_in_millis() <= 2000
    assert 28_000 < second.get_remaining_time_in_millis() <= 29_000
    time.sleep(0.05)
    assert first.get_remaining_time_in_millis() <= 1950


def _in_own_thread(call: Any) -> Any:
    """Mangum uses the calling thread's event loop; a fresh thread has none to leak into other tests."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = call()
        finally:
            loop = asyncio.get_event_loop()
            loop.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert "result" in out
    return out["result"]

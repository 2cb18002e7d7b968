"""The local API Gateway (app/local/server.py) and ``python -m app.local``.

In-process tests drive the gateway with stand-in handlers over real loopback HTTP; the real-client test
starts ``python -m app.local`` as ``make serve`` does and talks MCP to the production handler.
"""

from __future__ import annotations

import base64
import json
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from app.local.cli import LOCAL_ALLOWED_HOSTS, banner, local_environment, parse_args
from app.local.launcher import LocalServer
from app.local.runtime import LambdaRuntime
from app.local.sandbox import SandboxInfo
from app.local.server import LocalGateway
from app.web.origins import OriginPolicy

Handler = Callable[[dict[str, Any], Any], Any]
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answers with the event it received, and what it knows of its invocation."""
    reply = {"event": event, "thread": threading.get_ident(), "request_id": context.aws_request_id}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(reply)}


def serve(handler: Handler, timeout_s: float = 5.0) -> Iterator[str]:
    runtime = LambdaRuntime(handler, timeout_s=timeout_s)
    gateway = LocalGateway("127.0.0.1", 0, runtime)
    thread = threading.Thread(target=gateway.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{gateway.port}"
    finally:
        gateway.shutdown()
        gateway.server_close()
        runtime.close()
        thread.join(5)


@pytest.fixture
def echo_url() -> Iterator[str]:
    yield from serve(echo)


def test_request_reaches_the_handler_as_a_payload_2_event(echo_url: str) -> None:
    body = b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    with httpx.Client(timeout=10) as client:
        reply = client.post(
            f"{echo_url}/mcp?x=1&x=2",
            content=body,
            headers={**MCP_HEADERS, "cookie": "a=1; b=2", "x-forwarded-for": "6.6.6.6"},
        )
    assert reply.status_code == 200
    assert reply.headers["apigw-requestid"]
    event = reply.json()["event"]
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/mcp"
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["body"] == body.decode()
    assert event["isBase64Encoded"] is False
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["requestContext"]["requestId"] == reply.headers["apigw-requestid"]
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["domainName"] == "127.0.0.1"
    headers = event["headers"]
    assert headers["x-forwarded-for"] == "127.0.0.1"  # the gateway's, not the client's
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-port"] == echo_url.rsplit(":", 1)[1]
    assert headers["x-amzn-trace-id"].startswith("Root=1-")
    assert "connection" not in headers


def test_foreign_host_is_passed_on_but_never_named_the_apis_domain(echo_url: str) -> None:
    reply = httpx.post(f"{echo_url}/mcp", content=b"{}", headers={**MCP_HEADERS, "host": "evil.example.com"})
    event = reply.json()["event"]
    assert event["headers"]["host"] == "evil.example.com"
    assert event["requestContext"]["domainName"] == "127.0.0.1"


def test_binary_and_chunked_bodies(echo_url: str) -> None:
    binary = bytes(range(256)) * 3
    reply = httpx.post(
        f"{echo_url}/upload", content=binary, headers={"content-type": "application/octet-stream"}
    )
    event = reply.json()["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == binary

    chunks = iter([b'{"jsonrpc":', b'"2.0","id":7,', b'"method":"ping"}'])
    reply = httpx.post(f"{echo_url}/mcp", content=chunks, headers=MCP_HEADERS)
    event = reply.json()["event"]
    assert event["body"] == '{"jsonrpc":"2.0","id":7,"method":"ping"}'
    assert event["headers"]["content-length"] == str(len(event["body"]))


def test_head_has_no_body_and_oversize_is_refused(echo_url: str) -> None:
    reply = httpx.head(f"{echo_url}/mcp")
    assert reply.status_code == 200
    assert reply.content == b""
    with socket.create_connection(("127.0.0.1", int(echo_url.rsplit(":", 1)[1])), timeout=5) as raw:
        raw.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20000000\r\n\r\n")
        status = raw.recv(4096).split(b"\r\n", 1)[0]
    assert status.startswith(b"HTTP/1.1 413 ")


def test_invocations_run_one_at_a_time_on_one_thread() -> None:
    """One Lambda execution environment: many connections, one invocation at a time, one thread."""
    active, peak, threads = 0, 0, set()
    lock = threading.Lock()

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
            threads.add(threading.get_ident())
        time.sleep(0.05)
        with lock:
            active -= 1
        return {"statusCode": 204}

    for url in serve(slow):
        results: list[int] = []

        def call(url: str = url, results: list[int] = results) -> None:
            results.append(httpx.post(f"{url}/mcp", content=b"{}").status_code)

        clients = [threading.Thread(target=call) for _ in range(8)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(10)
        assert results == [204] * 8
    assert peak == 1
    assert len(threads) == 1
    assert threading.get_ident() not in threads


def test_handler_failure_is_api_gateways_500() -> None:
    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    for url in serve(broken):
        reply = httpx.post(f"{url}/mcp", content=b"{}")
        assert (reply.status_code, reply.json()) == (500, {"message": "Internal Server Error"})
        assert reply.headers["apigw-requestid"]


def test_handler_timeout_is_api_gateways_503() -> None:
    release = threading.Event()

    def stuck(event: dict[str, Any], context: Any) -> dict[str, Any]:
        release.wait(10)
        return {"statusCode": 200}

    for url in serve(stuck, timeout_s=0.2):
        try:
            reply = httpx.post(f"{url}/mcp", content=b"{}", timeout=10)
            assert not release.is_set()  # answered while the handler was still running
            assert (reply.status_code, reply.json()) == (503, {"message": "Service Unavailable"})
        finally:
            release.set()


def test_context_carries_a_fresh_request_id_and_deadline(echo_url: str) -> None:
    ids = {httpx.post(f"{echo_url}/mcp", content=b"{}").json()["request_id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::", "::1"])
def test_cli_refuses_non_loopback_hosts(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--host", host], {})
    assert exit_info.value.code == 2
    assert "loopback" in capsys.readouterr().err


def test_cli_port_defaults() -> None:
    assert parse_args([], {}).port == 3000
    assert parse_args([], {"PORT": "8080"}).port == 8080
    assert parse_args(["--port", "0"], {"PORT": "8080"}).port == 0
    args = parse_args(["--host", "localhost"], {})
    assert (args.host, args.backend, args.handler) == ("127.0.0.1", "sandbox", "app.handler:handler")


def test_sandbox_environment_cannot_reach_a_real_account() -> None:
    environ = {
        "AWS_PROFILE": "production",
        "AWS_SESSION_TOKEN": "real-token",
        "AWS_ACCESS_KEY_ID": "AKIAREAL",
        "AWS_ENDPOINT_URL_LAMBDA": "https://lambda.example.com",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",  # would make boto3 skip the sandbox's endpoint
        "AWS_REGION": "eu-west-1",
        "LAMBDA_OPS_ALLOWED_HOSTS": "127.0.0.1:*,tunnel.example.com",
    }
    local_environment("sandbox", environ)
    assert "AWS_PROFILE" not in environ
    assert "AWS_SESSION_TOKEN" not in environ
    assert "AWS_ENDPOINT_URL_LAMBDA" not in environ
    assert "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" not in environ
    assert environ["AWS_ACCESS_KEY_ID"] == environ["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert environ["LAMBDA_OPS_ALLOWED_HOSTS"] == "127.0.0.1:*,tunnel.example.com"  # the user's choice stays
    assert environ["LAMBDA_OPS_ALLOW_WRITES"] == "true"
    assert environ["POWERTOOLS_DEV"] == "true"
    assert environ["LAMBDA_OPS_AUTH_MODE"] == "none"  # zero setup: nobody signs in on loopback
    # the seeded fleet: its organisation, both regions (app/local/seed_fleet.py)
    assert environ["LAMBDA_OPS_ACCOUNTS"] == "organization"
    assert environ["LAMBDA_OPS_REGIONS"] == "us-east-1,eu-west-1"
    narrowed = {"LAMBDA_OPS_ACCOUNTS": "111111111111"}
    local_environment("sandbox", narrowed)
    assert narrowed["LAMBDA_OPS_ACCOUNTS"] == "111111111111"  # an exported choice wins


def test_an_exported_auth_mode_wins_and_the_banner_says_how_sign_in_works() -> None:
    environ = {"LAMBDA_OPS_AUTH_MODE": "oauth", "LAMBDA_OPS_OAUTH_ISSUER": "http://127.0.0.1:9000"}
    local_environment("sandbox", environ)
    assert environ["LAMBDA_OPS_AUTH_MODE"] == "oauth"
    text = banner("http://127.0.0.1:3000/mcp", "aws", None, environ)
    assert "sign-in: OAuth bearer tokens from http://127.0.0.1:9000" in text
    assert "sign-in: off (LAMBDA_OPS_AUTH_MODE=none)" in banner(
        "u", "aws", None, {"LAMBDA_OPS_AUTH_MODE": "none"}
    )


def test_aws_environment_keeps_the_credential_chain() -> None:
    environ = {"AWS_PROFILE": "ops", "AWS_REGION": "eu-west-1"}
    local_environment("aws", environ)
    assert environ["AWS_PROFILE"] == "ops"
    assert environ["AWS_REGION"] == "eu-west-1"
    assert "AWS_ENDPOINT_URL" not in environ
    assert "LAMBDA_OPS_ALLOW_WRITES" not in environ  # writes stay off unless the user turns them on
    assert "LAMBDA_OPS_ACCOUNTS" not in environ  # a real account: the fleet is what the user configures
    assert environ["LAMBDA_OPS_ALLOWED_HOSTS"] == LOCAL_ALLOWED_HOSTS
    # A real account's data is readable from MCP Inspector's web UI, not from any page on any localhost port.
    policy = OriginPolicy([], environ["LAMBDA_OPS_ALLOWED_ORIGINS"].split(","))
    assert policy.origin_allowed("http://localhost:6274")
    assert not policy.origin_allowed("http://localhost:5173")


def test_banner() -> None:
    url = "http://127.0.0.1:3000/mcp"
    text = banner(
        url, "sandbox", SandboxInfo("http://127.0.0.1:5000", 50, 0.4), {"LAMBDA_OPS_ALLOW_WRITES": "true"}
    )
    lines = text.splitlines()
    assert lines[0] == f"lambda-ops-mcp ready: {url}"
    assert f"claude mcp add --transport http lambda-ops {url}" in text
    assert f"npx @modelcontextprotocol/inspector --cli {url} --transport http --method tools/list" in text
    snippet = text[text.index("{") : text.rindex("}") + 1]
    assert json.loads(snippet) == {"mcpServers": {"lambda-ops": {"type": "http", "url": url}}}
    assert "50 functions" in text
    assert "writes enabled" in text
    assert "random key of this process" in text  # said at startup: no deployment key locally
    assert "fleet: none seeded" in text


def test_banner_names_the_seeded_fleet_and_the_limits() -> None:
    environ = {"LAMBDA_OPS_ACCOUNTS": "organization", "LAMBDA_OPS_REGIONS": "us-east-1,eu-west-1"}
    fleet = "organisation of 4 accounts (home 123456789012; ...); 333333333333 denies AssumeRole"
    info = SandboxInfo("http://127.0.0.1:5000", 50, 0.4, fleet, "2 Lambda requests/s per account and region")
    lines = banner("http://127.0.0.1:3000/mcp", "sandbox", info, environ).splitlines()
    assert f"  fleet: {fleet}" in lines
    assert (
        "  fleet targets: LAMBDA_OPS_ACCOUNTS=organization, LAMBDA_OPS_REGIONS=us-east-1,eu-west-1; "
        "Lambda control-plane limits: 2 Lambda requests/s per account and region"
    ) in lines
    assert "fleet" not in banner("u", "aws", None, {})


def test_cli_throttle_and_latency(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args(["--throttle", "10", "--latency", "50"], {})
    assert (args.throttle, args.latency) == (10.0, 50.0)
    defaults = parse_args([], {})
    assert (defaults.throttle, defaults.latency) == (None, 0.0)
    for bad in (["--throttle", "0"], ["--latency", "-1"], ["--backend", "aws", "--throttle", "5"]):
        with pytest.raises(SystemExit) as exit_info:
            parse_args(bad, {})
        assert exit_info.value.code == 2
    assert "not with --backend aws" in capsys.readouterr().err


@pytest.mark.realclient
def test_make_serve_path_end_to_end() -> None:
    """``python -m app.local --port 0``: ready line, MCP over HTTP to the production handler, clean stop."""
    started = time.monotonic()
    with LocalServer(ready_timeout=60) as server:
        startup = time.monotonic() - started
        assert server.url.startswith("http://127.0.0.1:")
        sandbox = server.sandbox_url
        assert sandbox is not None
        with httpx.Client(timeout=10) as client:
            init = client.post(
                server.url,
                headers=MCP_HEADERS,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "test_local_server", "version": "1"},
                    },
                },
            )
            assert init.status_code == 200
            assert init.json()["result"]["serverInfo"]["name"] == "lambda-ops"
            ping = client.post(
                server.url,
                headers={**MCP_HEADERS, "mcp-protocol-version": "2025-11-25"},
                json={
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {"name": "ping", "arguments": {}},
                },
            )
            assert ping.status_code == 200
            assert ping.json()["result"]["content"][0]["text"] == "Pong!"

            get_started = time.monotonic()
            get = client.get(server.url, headers={"accept": "text/event-stream"})
            assert get.status_code == 405
            assert time.monotonic() - get_started < 1
            assert "POST" in get.headers["allow"]

            foreign = client.post(
                server.url,
                headers={**MCP_HEADERS, "host": "evil.example.com"},
                json={"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
            )
            assert foreign.status_code == 421
        assert server.stop(signal.SIGTERM) == 0
    output = server.text()
    assert "POST /mcp 200" in output
    assert "tools/call ping" in output
    assert "GET /mcp 405" in output
    assert "Traceback" not in output
    sandbox_port = int(sandbox.rsplit(":", 1)[1])
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", sandbox_port), timeout=1),
    ):
        pass  # the sandbox stopped with the server
    assert startup < 60


@pytest.mark.realclient
def test_ctrl_c_stops_the_server_cleanly() -> None:
    with LocalServer(ready_timeout=60) as server:
        reply = httpx.post(
            server.url,
            headers={**MCP_HEADERS, "mcp-protocol-version": "2025-11-25"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            timeout=10,
        )
        assert reply.status_code == 200
        assert server.stop(signal.SIGINT) == 0
    assert "Traceback" not in server.text()


def test_a_client_hanging_up_is_not_reported_as_a_server_error(
    echo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: real clients reset keep-alive connections and abort requests; socketserver printed a
    traceback ("Exception occurred during processing of request") for each."""
    port = int(echo_url.rsplit(":", 1)[1])
    for partial in (b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{", b"POS"):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close → RST
        sock.sendall(partial)
        time.sleep(0.1)
        sock.close()
    time.sleep(0.3)
    assert httpx.post(f"{echo_url}/mcp", json={}, timeout=5).status_code == 200  # still serving
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out


def test_an_unparseable_request_target_gets_400(echo_url: str) -> None:
    """Regression: urlsplit raised on "http://[x/mcp" and the client got an empty reply and a traceback."""
    port = int(echo_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST http://[x/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400 ")


@pytest.mark.parametrize("size", [b"-1", b"+5", b"0x5", b"1_0", b"zz"])
def test_a_chunk_size_that_is_not_plain_hex_gets_400_at_once(echo_url: str, size: bytes) -> None:
    """Regression: int("-1", 16) became rfile.read(-1), which waited for the client to hang up."""
    port = int(echo_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(
            b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" + size + b"\r\nabc"
        )
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400 ")

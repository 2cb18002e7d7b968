"""The conformance suite's 2026-07-28 multi-round-trip fixtures (``input-required-result-*``, SEP-2322) and
``server-stateless``'s ``test_missing_capability`` (SEP-2575), as @modelcontextprotocol/conformance
0.2.0-alpha.12's scenario descriptions specify them (tool names, input-request keys, texts).

The scenarios fix the wire keys (``user_name``, ``capital_question``, ...), so these tools build their
``InputRequiredResult`` by hand and read ``ctx.input_responses`` / ``ctx.request_state``. Everything else is
the production path: the handler, the edge, and the SDK's ``RequestStateBoundary``, which seals every
``requestState`` they return under the server's ``RequestStateSecurity`` and verifies it on the retry —
``input-required-result-tampered-state`` tests that boundary, not these fixtures.
``test_missing_capability`` uses the SDK's resolver markers (``Sample``), so its -32021 and HTTP 400 are
the SDK's own capability check on our path.

Test-only: imported by tests/conformance_profile.py, never part of the deployed artifact.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp.server.mcpserver.resolve import Resolve, Sample
from mcp_types import (
    ClientCapabilities,
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequest,
    InputRequiredResult,
    ListRootsRequest,
    ListRootsResult,
    SamplingMessage,
    TextContent,
)

STATE_TOKEN = "conformance-request-state-v1"  # the plaintext; the SDK seals it on the way out


def _elicit(message: str, field: str, field_type: str = "string") -> ElicitRequest:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {field: {"type": field_type}},
        "required": [field],
    }
    return ElicitRequest(params=ElicitRequestFormParams(message=message, requested_schema=schema))


def _sample(text: str, max_tokens: int) -> CreateMessageRequest:
    message = SamplingMessage(role="user", content=TextContent(type="text", text=text))
    return CreateMessageRequest(params=CreateMessageRequestParams(messages=[message], max_tokens=max_tokens))


def _accepted(ctx: Context, key: str, field: str) -> str | None:
    """The accepted elicitation answer's ``field``, or None when the client has not (validly) answered."""
    answer = (ctx.input_responses or {}).get(key)
    if isinstance(answer, ElicitResult) and answer.action == "accept" and answer.content:
        value = answer.content.get(field)
        return str(value) if value is not None else None
    return None


def _sampled(ctx: Context, key: str) -> str | None:
    answer = (ctx.input_responses or {}).get(key)
    if isinstance(answer, CreateMessageResult):
        content = answer.content
        return content.text if isinstance(content, TextContent) else "(non-text)"
    return None


def _roots(ctx: Context, key: str) -> list[str] | None:
    answer = (ctx.input_responses or {}).get(key)
    return [str(root.uri) for root in answer.roots] if isinstance(answer, ListRootsResult) else None


def _ask(requests: dict[str, InputRequest], state: str | None = None) -> InputRequiredResult:
    return InputRequiredResult(input_requests=requests, request_state=state)


async def needs_sampling() -> Sample:
    """Module level: with postponed annotations the SDK resolves ``Resolve(...)`` in the module's globals."""
    message = SamplingMessage(role="user", content=TextContent(type="text", text="Say hello"))
    return Sample([message], max_tokens=10)


def register_input_required_fixtures(server: MCPServer) -> None:
    @server.tool(description="Asks the user's name with an InputRequiredResult (conformance fixture).")
    async def test_input_required_result_elicitation(ctx: Context) -> str | InputRequiredResult:
        name = _accepted(ctx, "user_name", "name")
        if name is None:  # first round, or the answer is missing: ask (again)
            return _ask({"user_name": _elicit("What is your name?", "name")})
        return f"Hello, {name}!"

    @server.tool(description="Samples the client's LLM with an InputRequiredResult (conformance fixture).")
    async def test_input_required_result_sampling(ctx: Context) -> str | InputRequiredResult:
        text = _sampled(ctx, "capital_question")
        if text is None:
            return _ask({"capital_question": _sample("What is the capital of France?", 100)})
        return f"Sampling response: {text}"

    @server.tool(description="Asks for the client's roots with an InputRequiredResult (conformance fixture).")
    async def test_input_required_result_list_roots(ctx: Context) -> str | InputRequiredResult:
        roots = _roots(ctx, "client_roots")
        if roots is None:
            return _ask({"client_roots": ListRootsRequest()})
        return f"Client roots: {', '.join(roots) or '(none)'}"

    @server.tool(description="Round-trips requestState (conformance fixture).")
    async def test_input_required_result_request_state(ctx: Context) -> str | InputRequiredResult:
        ok = _accepted(ctx, "confirm", "ok")
        if ok is None or ctx.request_state != STATE_TOKEN:
            return _ask({"confirm": _elicit("Please confirm", "ok", "boolean")}, STATE_TOKEN)
        return f"state-ok: confirmed={ok}"

    @server.tool(description="Asks three things in one InputRequiredResult (conformance fixture).")
    async def test_input_required_result_multiple_inputs(ctx: Context) -> str | InputRequiredResult:
        name, greeting = _accepted(ctx, "user_name", "name"), _sampled(ctx, "greeting")
        roots = _roots(ctx, "client_roots")
        if name is None or greeting is None or roots is None:
            requests: dict[str, InputRequest] = {
                "user_name": _elicit("What is your name?", "name"),
                "greeting": _sample("Generate a greeting", 50),
                "client_roots": ListRootsRequest(),
            }
            return _ask(requests, STATE_TOKEN)
        return f"name={name}, greeting={greeting}, roots={len(roots)}"

    @server.tool(description="Two rounds of questions, the state evolving (conformance fixture).")
    async def test_input_required_result_multi_round(ctx: Context) -> str | InputRequiredResult:
        state = ctx.request_state or ""
        if state.startswith("round-2:"):
            color = _accepted(ctx, "step2", "color")
            if color is not None:
                return f"{state.removeprefix('round-2:')} likes {color}"
        name = _accepted(ctx, "step1", "name")
        if name is not None and not state.startswith("round-2:"):
            step2 = _elicit("Step 2: What is your favorite color?", "color")
            return _ask({"step2": step2}, f"round-2:{name}")
        if state.startswith("round-2:"):
            return _ask({"step2": _elicit("Step 2: What is your favorite color?", "color")}, state)
        return _ask({"step1": _elicit("Step 1: What is your name?", "name")}, "round-1")

    @server.tool(description="Integrity-protected requestState (conformance fixture).")
    async def test_input_required_result_tampered_state(ctx: Context) -> str | InputRequiredResult:
        ok = _accepted(ctx, "confirm", "ok")
        if ok is None or ctx.request_state != STATE_TOKEN:
            return _ask({"confirm": _elicit("Please confirm", "ok", "boolean")}, STATE_TOKEN)
        return "state verified"

    @server.tool(description="Asks only what the client declared it can answer (conformance fixture).")
    async def test_input_required_result_capabilities(ctx: Context) -> str | InputRequiredResult:
        capabilities = ctx.client_capabilities
        requests: dict[str, InputRequest] = {}
        declared = capabilities or ClientCapabilities()
        if declared.elicitation is not None and _accepted(ctx, "user_name", "name") is None:
            requests["user_name"] = _elicit("What is your name?", "name")
        if declared.sampling is not None and _sampled(ctx, "greeting") is None:
            requests["greeting"] = _sample("Generate a greeting", 50)
        return _ask(requests, STATE_TOKEN) if requests else "all declared capabilities answered"

    @server.prompt(description="A prompt that asks for context first (conformance fixture).")
    async def test_input_required_result_prompt(ctx: Context) -> list[UserMessage] | InputRequiredResult:
        context = _accepted(ctx, "user_context", "context")
        if context is None:
            return _ask({"user_context": _elicit("What context should the prompt use?", "context")})
        return [UserMessage(content=TextContent(type="text", text=f"Use this context: {context}"))]

    @server.tool(description="Needs the sampling capability; -32021 when it is not declared (fixture).")
    async def test_missing_capability(
        sampled: Annotated[CreateMessageResult, Resolve(needs_sampling)],
    ) -> str:
        content = sampled.content
        return f"Sampled: {content.text if isinstance(content, TextContent) else '(non-text)'}"

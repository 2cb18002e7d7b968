"""A test-only handler profile: the production server plus the MCP conformance suite's fixtures.

    python -m app.local --handler tests.conformance_profile:handler --worker tests.conformance_tasks:worker

The server is ``app.surface.server.build_server(Settings())`` — the deployed surface, unchanged — with the
tools, resources, prompts and completion handler the conformance suite's server scenarios call, added on top
(names, contents and behaviour from ``@modelcontextprotocol/conformance`` 0.2.0-alpha.12's scenario
sources; the 2026-07-28 multi-round-trip ones are in tests/conformance_input_required.py). It is
wrapped by ``app.handler.build_handler(server=...)``: the same Mangum/edge/lifespan path as production.

Deliberately NOT added: ``logging/setLevel`` and ``resources/subscribe``/``unsubscribe``. The deployed server
is stateless with JSON responses: it has no channel back to the client, so it can deliver neither log
messages nor resource-updated notifications, and does not advertise those capabilities. The fixture tools
that need such a channel (logging, progress, sampling, elicitation) are implemented as the suite specifies;
they show how the stateless server behaves when asked (see tests/realclient/test_conformance.py).

Nothing under app/ imports this module; it is never part of the deployed artifact.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp_types import (
    AudioContent,
    Completion,
    CompletionArgument,
    CompletionContext,
    EmbeddedResource,
    ImageContent,
    PromptReference,
    ResourceTemplateReference,
    SamplingMessage,
    TextContent,
    TextResourceContents,
)
from pydantic import BaseModel, Field

from app.config import Settings
from app.handler import build_handler
from app.surface.server import build_server
from app.web.observability import LambdaHandler
from tests.conformance_input_required import register_input_required_fixtures
from tests.conformance_tasks import TASK_ONLY, register_task_fixtures

# A 1x1 PNG and a minimal (empty) WAV file.
PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV_BASE64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

JSON_SCHEMA_2020_12_TOOL = "json_schema_2020_12_tool"
# The schema of conformance 0.2.0-alpha.12's json-schema-2020-12 scenario (SEP-1613 and SEP-2106).
JSON_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}

# Completion values for the prompt arguments (completion-complete scenario).
COMPLETIONS = ["paris", "park", "party", "test", "testing", "tester"]


def build_conformance_server(settings: Settings | None = None) -> MCPServer:
    server = build_server(settings or Settings(), task_only=TASK_ONLY)
    register_fixture_tools(server)
    register_fixture_resources(server)
    register_fixture_prompts(server)
    register_completion(server)
    register_input_required_fixtures(server)
    register_task_fixtures(server)
    return server


def register_fixture_tools(server: MCPServer) -> None:
    @server.tool(description="Returns simple text content (conformance fixture).")
    async def test_simple_text() -> str:
        return "This is a simple text response for testing."

    @server.tool(description="Returns image content (conformance fixture).")
    async def test_image_content() -> list[ImageContent]:
        return [ImageContent(type="image", data=PNG_BASE64, mime_type="image/png")]

    @server.tool(description="Returns audio content (conformance fixture).")
    async def test_audio_content() -> list[AudioContent]:
        return [AudioContent(type="audio", data=WAV_BASE64, mime_type="audio/wav")]

    @server.tool(description="Returns an embedded resource (conformance fixture).")
    async def test_embedded_resource() -> list[EmbeddedResource]:
        return [
            EmbeddedResource(
                type="resource",
                resource=TextResourceContents(
                    uri="test://embedded-resource",
                    mime_type="text/plain",
                    text="This is an embedded resource content.",
                ),
            )
        ]

    @server.tool(description="Returns text, image and resource content (conformance fixture).")
    async def test_multiple_content_types() -> list[TextContent | ImageContent | EmbeddedResource]:
        return [
            TextContent(type="text", text="Multiple content types test:"),
            ImageContent(type="image", data=PNG_BASE64, mime_type="image/png"),
            EmbeddedResource(
                type="resource",
                resource=TextResourceContents(
                    uri="test://mixed-content-resource",
                    mime_type="application/json",
                    text=json.dumps({"test": "data", "value": 123}),
                ),
            ),
        ]

    @server.tool(description="Always fails with isError: true (conformance fixture).")
    async def test_error_handling() -> str:
        raise ToolError("This tool intentionally returns an error for testing")

    @server.tool(description="Sends three info log messages while it runs (conformance fixture).")
    async def test_tool_with_logging(ctx: Context) -> str:
        # Context.info is deprecated as of 2026-07-28 (SEP-2577); the 2025-era scenario asks for it.
        await ctx.info("Tool execution started")
        await asyncio.sleep(0.05)
        await ctx.info("Tool processing data")
        await asyncio.sleep(0.05)
        await ctx.info("Tool execution completed")
        return "Tool with logging executed successfully"

    @server.tool(description="Reports progress 0, 50, 100 of 100 (conformance fixture).")
    async def test_tool_with_progress(ctx: Context) -> str:
        for step in (0, 50, 100):
            await ctx.report_progress(progress=step, total=100, message=f"Completed step {step} of 100")
            if step < 100:
                await asyncio.sleep(0.05)
        return "Tool with progress executed successfully"

    @server.tool(description="Asks the client for an LLM completion (conformance fixture).")
    async def test_sampling(prompt: str, ctx: Context) -> str:
        result = await ctx.session.create_message(
            messages=[SamplingMessage(role="user", content=TextContent(type="text", text=prompt))],
            max_tokens=100,
        )
        content = result.content
        text = content.text if isinstance(content, TextContent) else "No response"
        return f"LLM response: {text}"

    class UserResponse(BaseModel):
        username: str = Field(description="User's response")
        email: str = Field(description="User's email address")

    @server.tool(description="Asks the user for input (conformance fixture).")
    async def test_elicitation(message: str, ctx: Context) -> str:
        result = await ctx.elicit(message=message, schema=UserResponse)
        content = result.data.model_dump_json() if result.action == "accept" else "{}"
        return f"User response: action={result.action}, content={content}"

    class DefaultsSchema(BaseModel):
        name: str = Field(default="John Doe", description="User name")
        age: int = Field(default=30, description="User age")
        score: float = Field(default=95.5, description="User score")
        status: str = Field(
            default="active",
            description="User status",
            json_schema_extra={"enum": ["active", "inactive", "pending"]},
        )
        verified: bool = Field(default=True, description="Verification status")

    @server.tool(description="Elicitation with defaults for every primitive type, SEP-1034 (fixture).")
    async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
        result = await ctx.elicit(message="Please provide user information", schema=DefaultsSchema)
        content = result.data.model_dump_json() if result.action == "accept" else "{}"
        return f"Elicitation completed: action={result.action}, content={content}"

    class EnumsSchema(BaseModel):
        untitledSingle: str = Field(
            description="Untitled single-select",
            json_schema_extra={"enum": ["option1", "option2", "option3"]},
        )
        titledSingle: str = Field(
            description="Titled single-select",
            json_schema_extra={
                "oneOf": [
                    {"const": "value1", "title": "First Option"},
                    {"const": "value2", "title": "Second Option"},
                    {"const": "value3", "title": "Third Option"},
                ]
            },
        )
        legacyEnum: str = Field(
            description="Legacy titled enum",
            json_schema_extra={
                "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"],
            },
        )
        untitledMulti: list[str] = Field(
            description="Untitled multi-select",
            json_schema_extra={"items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
        )
        titledMulti: list[str] = Field(
            description="Titled multi-select",
            json_schema_extra={
                "items": {
                    "anyOf": [
                        {"const": "value1", "title": "First Choice"},
                        {"const": "value2", "title": "Second Choice"},
                        {"const": "value3", "title": "Third Choice"},
                    ]
                }
            },
        )

    @server.tool(description="Elicitation with the five enum schema variants, SEP-1330 (fixture).")
    async def test_elicitation_sep1330_enums(ctx: Context) -> str:
        result = await ctx.elicit(message="Please select values", schema=EnumsSchema)
        content = result.data.model_dump_json() if result.action == "accept" else "{}"
        return f"Elicitation completed: action={result.action}, content={content}"

    @server.tool(description="Closes its SSE stream mid-call, SEP-1699 (fixture; JSON responses have none).")
    async def test_reconnection(ctx: Context) -> str:
        await ctx.close_sse_stream()
        return "Reconnection test completed"

    @server.tool(description="A parameter mirrored in the Mcp-Param-Region header, SEP-2243 (fixture).")
    async def test_custom_headers(
        region: Annotated[str, Field(description="A region", json_schema_extra={"x-mcp-header": "Region"})],
    ) -> str:
        return f"region={region}"

    @server.tool(
        name=JSON_SCHEMA_2020_12_TOOL,
        description="Tool with JSON Schema 2020-12 features",
    )
    async def json_schema_2020_12_tool(name: str | None = None, address: dict[str, Any] | None = None) -> str:
        return json.dumps({"name": name, "address": address})

    # The suite checks that $schema, $defs and additionalProperties reach the client unchanged; the SDK
    # derives input schemas from signatures, so the advertised schema is set on the registered tool.
    tool = server._tool_manager.get_tool(JSON_SCHEMA_2020_12_TOOL)
    assert tool is not None
    tool.parameters = JSON_SCHEMA_2020_12


def register_fixture_resources(server: MCPServer) -> None:
    @server.resource("test://static-text", name="static-text", mime_type="text/plain")
    def static_text() -> str:
        """A static text resource (conformance fixture)."""
        return "This is the content of the static text resource."

    @server.resource("test://static-binary", name="static-binary", mime_type="image/png")
    def static_binary() -> bytes:
        """A static binary resource, a PNG image (conformance fixture)."""
        return base64.b64decode(PNG_BASE64)

    @server.resource("test://template/{id}/data", name="template-data", mime_type="application/json")
    def template_data(id: str) -> str:
        """A resource template with parameter substitution (conformance fixture)."""
        return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})

    @server.resource("test://watched-resource", name="watched-resource", mime_type="text/plain")
    def watched_resource() -> str:
        """The resource the subscribe scenarios name (conformance fixture)."""
        return "Watched resource content"


def register_fixture_prompts(server: MCPServer) -> None:
    @server.prompt(description="A simple prompt without arguments (conformance fixture).")
    def test_simple_prompt() -> list[UserMessage]:
        return [UserMessage(content=TextContent(type="text", text="This is a simple prompt for testing."))]

    @server.prompt(description="A prompt with two required arguments (conformance fixture).")
    def test_prompt_with_arguments(arg1: str, arg2: str) -> list[UserMessage]:
        text = f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"
        return [UserMessage(content=TextContent(type="text", text=text))]

    @server.prompt(description="A prompt embedding a resource (conformance fixture).")
    def test_prompt_with_embedded_resource(resourceUri: str) -> list[UserMessage]:
        return [
            UserMessage(
                content=EmbeddedResource(
                    type="resource",
                    resource=TextResourceContents(
                        uri=resourceUri, mime_type="text/plain", text="Embedded resource content for testing."
                    ),
                )
            ),
            UserMessage(content=TextContent(type="text", text="Please process the embedded resource above.")),
        ]

    @server.prompt(description="A prompt with image content (conformance fixture).")
    def test_prompt_with_image() -> list[UserMessage]:
        return [
            UserMessage(content=ImageContent(type="image", data=PNG_BASE64, mime_type="image/png")),
            UserMessage(content=TextContent(type="text", text="Please analyze the image above.")),
        ]


def register_completion(server: MCPServer) -> None:
    @server.completion()
    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion:
        values = [value for value in COMPLETIONS if value.startswith(argument.value)]
        return Completion(values=values, total=len(values), has_more=False)


_handler: LambdaHandler | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Like ``app.handler.handler``: built on the first invocation, reused by the later ones."""
    global _handler
    if _handler is None:
        # Explicitly without sign-in: the conformance suite has no authorization server to talk to.
        _handler = build_handler(Settings(auth_mode="none"), server=build_conformance_server())
    return _handler(event, context)

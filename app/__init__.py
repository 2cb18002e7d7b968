"""lambda-ops-mcp: a stateless Streamable-HTTP MCP server for operating AWS Lambda, running on Lambda."""

__version__ = "0.1.0"

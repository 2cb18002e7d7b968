"""The MCP surface: ``server`` builds the MCPServer; ``tools``, ``resources`` (and prompts) register what a
client sees; ``render`` turns domain results into the text a model reads. Calls the domain
(``app.lambda_ops``); imports nothing of the HTTP edge.
"""

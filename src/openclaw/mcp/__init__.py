"""The MCP client: `mcp.servers` (stdio, streamable HTTP, SSE), their tools offered to the model
under upstream's names."""

"""Tools a model may call: MCP servers (config, client) and the user's permissions (no Qt)."""

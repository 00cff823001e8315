"""A real stdio MCP server for tests, written with the official SDK: `python -m tests.support.mcp_weather`.

Tools: get_weather(city) answers a fixed forecast; slow(seconds) sleeps (for timeouts and Stop);
crash() ends the process (a server that dies mid-call).
"""

from __future__ import annotations

import asyncio
import os

from mcp.server.fastmcp import FastMCP

server = FastMCP("weather")


@server.tool()
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny and 18 °C in {city}."


@server.tool()
async def slow(seconds: float) -> str:
    """Wait, then answer (without blocking the server's other calls)."""
    await asyncio.sleep(seconds)
    return "done"


@server.tool()
def crash() -> str:
    """End the server at once."""
    os._exit(3)


if __name__ == "__main__":
    server.run("stdio")

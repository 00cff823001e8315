"""Hearth as a local OpenAI-compatible server (Starlette + uvicorn; no Qt)."""

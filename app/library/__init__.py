"""Models on disk: GGUF headers and the local library. No Qt."""

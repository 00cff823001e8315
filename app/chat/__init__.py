"""The conversation core: messages made of parts and the conversation that owns them (no Qt)."""

"""Adds the Models (library) and Discover pages to the main window."""

from __future__ import annotations


def add_model_pages(window) -> None:
    """Filled in by the library and discover pages."""
    return None

"""Markdown to the HTML subset QTextDocument shows, with raw HTML escaped.

Model output is never trusted as HTML: markdown-it runs with html=False, so
tags arrive as text, and the view refuses to load any resource. Code blocks
get a "Copy" link (copy:N) that the view answers.
"""

from __future__ import annotations

import html

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_md.validateLink = lambda url: url.lower().startswith(("http://", "https://", "mailto:"))


def render_markdown(text: str) -> tuple[str, list[str]]:
    """Return (html, code blocks in order). Safe on partial (streaming) Markdown."""
    env: dict = {"code_blocks": []}
    tokens = _md.parse(text, env)
    for token in tokens:
        if token.type in ("fence", "code_block"):
            env["code_blocks"].append(token.content)
    body = _md.renderer.render(tokens, _md.options, env)
    return body, env["code_blocks"]


def _render_code(self, tokens, idx, options, env):
    token = tokens[idx]
    blocks = env.setdefault("_seen", [])
    n = len(blocks)
    blocks.append(n)
    lang = html.escape(token.info.strip().split(" ")[0]) if token.info else ""
    label = f"{lang} · " if lang else ""
    return (
        f'<table class="code" width="100%" cellpadding="8"><tr><td>'
        f'<pre style="font-family: monospace; white-space: pre-wrap;">{html.escape(token.content.rstrip(chr(10)))}</pre>'
        f'</td></tr></table><p class="codebar" align="right"><small>{label}<a href="copy:{n}">Copy code</a></small></p>'
    )


def _render_image(self, tokens, idx, options, env):
    # Never load images named by model output; show the alt text and address instead.
    token = tokens[idx]
    alt = html.escape(token.content or "image")
    src = html.escape(token.attrGet("src") or "")
    return f"[{alt}: {src}]"


_md.add_render_rule("fence", _render_code)
_md.add_render_rule("code_block", _render_code)
_md.add_render_rule("image", _render_image)

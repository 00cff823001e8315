"""Markdown to the HTML subset QTextDocument shows, with raw HTML escaped.

Model output is never trusted as HTML: markdown-it runs with html=False, so
tags arrive as text, and the view refuses to load any resource. Code blocks
are highlighted with inline colours for the light or dark theme
(code_highlight.py) and get a "Copy" link (copy:N) that the view answers;
`$…$` and `$$…$$` math is shown as monospace TeX (markdown_math.py).
"""

from __future__ import annotations

import html

from markdown_it import MarkdownIt

from app.ui.chat.code_highlight import code_block_html

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_md.validateLink = lambda url: url.lower().startswith(("http://", "https://", "mailto:"))


def render_markdown(text: str, first_code: int = 0, dark: bool = False) -> tuple[str, list[str]]:
    """Return (html, code blocks in order). Safe on partial (streaming) Markdown.

    Copy links are numbered from `first_code`, so a message rendered in pieces
    keeps one numbering. `dark` picks the code colours for a dark background.
    """
    env: dict = {"code_blocks": [], "first_code": first_code, "dark": dark}
    tokens = _md.parse(text, env)
    for token in tokens:
        if token.type in ("fence", "code_block"):
            env["code_blocks"].append(token.content)
    body = _md.renderer.render(tokens, _md.options, env)
    # Qt's rich text draws no table rules unless asked.
    body = body.replace("<table>\n", '<table border="1" cellspacing="0" cellpadding="4" style="border-color: #888;">\n')
    return body, env["code_blocks"]


def _render_code(self, tokens, idx, options, env):
    token = tokens[idx]
    blocks = env.setdefault("_seen", [])
    n = env.get("first_code", 0) + len(blocks)
    blocks.append(n)
    language = token.info.strip().split(" ")[0] if token.info else ""
    label = f"{html.escape(language)} · " if language else ""
    # A <pre> paragraph with a background, not a one-cell table: tables cost Qt a much slower re-layout.
    return (
        code_block_html(token.content.rstrip("\n"), language, env.get("dark", False))
        + f'<p align="right"><small>{label}<a href="copy:{n}">Copy code</a></small></p>'
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


TAIL_LIMIT = 400  # characters of an unfinished block re-rendered on each streaming flush


def split_streaming(text: str, start: int = 0) -> tuple[int, bool]:
    """Where the finished part of a streaming Markdown text ends: (length, forced).

    A block is finished at a blank line outside a code fence. A last block longer
    than TAIL_LIMIT is cut at its last line break or space (forced=True) so each
    flush stays cheap; a forced cut may show a paragraph split until the final render.
    """
    end = text.rfind("\n\n", start)
    while end >= start and text.count("```", 0, end) % 2:
        end = text.rfind("\n\n", start, end)
    cut = end + 2 if end >= start else start
    if len(text) - cut <= TAIL_LIMIT:
        return cut, False
    limit = len(text) - TAIL_LIMIT // 2
    forced = max(text.rfind("\n", cut, limit), text.rfind(" ", cut, limit))
    if forced <= cut or text.count("```", 0, forced) % 2:
        return cut, False
    return forced + 1, True

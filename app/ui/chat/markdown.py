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
from app.ui.chat.markdown_math import math_plugin


class _WebLinksOnly(MarkdownIt):
    """Links and images only to the web and mail: no file:, data: or javascript: address becomes a link."""

    def validateLink(self, url: str) -> bool:
        return url.lower().startswith(("http://", "https://", "mailto:"))


_md = _WebLinksOnly("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_md.use(math_plugin)


def render_markdown(text: str, first_code: int = 0, dark: bool = False, fence: str = "",
                    unfinished: bool = False) -> tuple[str, list[str]]:
    """Return (html, code blocks in order). Safe on partial (streaming) Markdown.

    Copy links are numbered from `first_code`, so a message rendered in pieces
    keeps one numbering. `dark` picks the code colours for a dark background.
    A streaming piece may be cut inside a long code block: `fence` is the opening
    line of the block that `text` continues (its first code block then joins the
    previous one), `unfinished` says `text` ends inside a block the next piece
    continues (no Copy link yet).
    """
    env: dict = {"code_blocks": [], "first_code": first_code, "dark": dark, "fence": bool(fence),
                 "unfinished": unfinished}
    if fence:
        text = f"{fence}\n{text}"
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
    continued = idx == 0 and env.get("fence", False)
    if idx == len(tokens) - 1 and env.get("unfinished", False):
        # The block goes on in the next piece: keep its blank lines, no Copy link yet.
        return code_block_html(token.content, language, env.get("dark", False), top=not continued, bottom=False)
    # A <pre> paragraph with a background, not a one-cell table: tables cost Qt a much slower re-layout.
    return (
        code_block_html(token.content.rstrip("\n"), language, env.get("dark", False), top=not continued)
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


def open_fence(text: str, end: int) -> str:
    """The opening line of the code fence still open at `end`, or "" outside code."""
    if text.count("```", 0, end) % 2 == 0:
        return ""
    start = text.rfind("```", 0, end)
    line_end = text.find("\n", start)
    return text[start:line_end if line_end >= 0 else len(text)]


def join_code_blocks(before: list[str], after: list[str], continued: bool) -> list[str]:
    """The code blocks of two pieces; `continued`: the second piece's first block goes on from the first's last."""
    if continued and before and after:
        return before[:-1] + [before[-1] + after[0]] + after[1:]
    return before + after


def split_streaming(text: str, start: int = 0) -> tuple[int, bool]:
    """Where the finished part of a streaming Markdown text ends: (length, forced).

    A block is finished at a blank line outside a code fence. A last block longer
    than TAIL_LIMIT is cut at its last line break or space (forced=True) so each
    flush stays cheap, inside a long code block at a line break; a forced cut may
    show a paragraph split (or code colours restarted) until the final render.
    """
    end = text.rfind("\n\n", start)
    while end >= start and text.count("```", 0, end) % 2:
        end = text.rfind("\n\n", start, end)
    cut = end + 2 if end >= start else start
    if len(text) - cut <= TAIL_LIMIT:
        return cut, False
    limit = len(text) - TAIL_LIMIT // 2
    if text.count("```", 0, limit) % 2:
        return _cut_in_code(text, cut, limit)
    forced = max(text.rfind("\n", cut, limit), text.rfind(" ", cut, limit))
    if forced <= cut or text.count("```", 0, forced) % 2:
        return cut, False
    return forced + 1, True


def _cut_in_code(text: str, cut: int, limit: int) -> tuple[int, bool]:
    """A forced cut inside the code block open at `limit`: after a line break, best before a
    line that starts at the margin (a lexer restarts cleanly there), else after the last one.
    Blank lines go with the next piece: Qt loses a piece's last empty line when adding the next."""
    code_start = text.find("\n", text.rfind("```", 0, limit)) + 1
    low = max(cut, code_start)
    if code_start == 0 or low >= limit:
        return cut, False
    last = text.rfind("\n", low, limit)
    position = last
    while position >= max(low, len(text) - 4 * TAIL_LIMIT):
        if not text[position + 1:position + 2].isspace():
            break
        position = text.rfind("\n", low, position)
    else:
        position = last
    while position > low and text[position - 1] == "\n":
        position -= 1
    return (position + 1, True) if position > low else (cut, False)

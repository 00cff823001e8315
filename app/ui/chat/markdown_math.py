"""TeX math in chat Markdown, shown readably as monospace source.

`$…$` becomes inline code, `$$…$$` a centred monospace paragraph; the TeX is
escaped and never interpreted, so nothing is drawn or loaded. Inline math
follows Pandoc's rule, which leaves prices alone ("costs $5 and $10"): the
opening `$` has a non-space character after it, the closing `$` a non-space
character before it and no digit after it.

    md.use(math_plugin)
"""

from __future__ import annotations

import html

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline


def math_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.after("escape", "math_inline", _math_inline)
    md.block.ruler.before("fence", "math_block", _math_block,
                          {"alt": ["paragraph", "reference", "blockquote", "list"]})
    md.add_render_rule("math_inline", _render_inline)
    md.add_render_rule("math_block", _render_block)


def find_inline_math(src: str, start: int, end: int) -> tuple[int, int, int] | None:
    """(content start, content end, past the closing delimiter) of math opening at `start`, or None."""
    if src.startswith("$$", start):
        close = src.find("$$", start + 2, end)
        if close < 0 or not src[start + 2:close].strip():
            return None
        return start + 2, close, close + 2
    first = start + 1
    if first >= end or src[first].isspace() or src[first] == "$":
        return None
    close = src.find("$", first + 1, end)
    while close > 0 and src[close - 1] == "\\":  # \$ is a dollar sign inside the math
        close = src.find("$", close + 1, end)
    if close < 0 or src[close - 1].isspace() or src[close + 1:close + 2].isdigit():
        return None
    return first, close, close + 1


def _math_inline(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "$":
        return False
    found = find_inline_math(state.src, state.pos, state.posMax)
    if found is None:
        return False
    first, close, after = found
    if not silent:
        token = state.push("math_inline", "code", 0)
        token.content = state.src[first:close]
        token.markup = "$"
    state.pos = after
    return True


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]


def _math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A paragraph that starts with `$$` and has a line ending with `$$` (unclosed: left as text)."""
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    first = _line(state, start_line).rstrip()
    if not first.startswith("$$"):
        return False
    if len(first) > 4 and first.endswith("$$"):  # $$ … $$ on one line
        content, next_line = first[2:-2], start_line + 1
    else:
        lines = [first[2:]]
        next_line = start_line + 1
        while next_line < end_line:
            text = _line(state, next_line).rstrip()
            if not text.strip():  # a blank line ends the paragraph: an unclosed $$ stays text
                return False
            if text.endswith("$$"):
                lines.append(text[:-2])
                break
            lines.append(text)
            next_line += 1
        else:
            return False
        content, next_line = "\n".join(lines), next_line + 1
    if silent:
        return True
    state.line = next_line
    token = state.push("math_block", "p", 0)
    token.block = True
    token.content = content.strip("\n")
    token.markup = "$$"
    token.map = [start_line, next_line]
    return True


def _render_inline(self, tokens, idx, options, env) -> str:
    return f"<code>{html.escape(tokens[idx].content)}</code>"


def _render_block(self, tokens, idx, options, env) -> str:
    lines = [html.escape(line.strip()) for line in tokens[idx].content.strip().splitlines()]
    return f'<p align="center" style="font-family:monospace;">{"<br/>".join(lines)}</p>\n'

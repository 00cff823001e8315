"""Code blocks as Qt rich text: Pygments colours written as inline styles.

QTextDocument understands a subset of HTML/CSS and no style sheets with
classes, so each token becomes `<span style="color:…">` inside a `<pre>` whose
background comes from the theme's Pygments style. Every piece of code is
HTML-escaped; nothing here names a resource. Finished blocks are cached, so a
streaming reply re-highlights only the block that is still growing.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from functools import lru_cache

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import Text, _TokenType
from pygments.util import ClassNotFound

LIGHT_STYLE = "friendly"
DARK_STYLE = "github-dark"
MAX_HIGHLIGHT = 20_000  # longer code is shown plain: lexing it at once would stall the GUI
WARM_UP = ("python", "bash", "javascript", "json")  # lexers built ahead of their first use

_warm_up_started = False


@dataclass(frozen=True)
class CodeTheme:
    """The colours of code blocks for one theme."""

    style: str
    background: str  # CSS colour of the block
    foreground: str  # CSS colour of text without a token colour


def code_theme(dark: bool) -> CodeTheme:
    return _theme(DARK_STYLE if dark else LIGHT_STYLE, dark)


@lru_cache(maxsize=4)
def _theme(style_name: str, dark: bool) -> CodeTheme:
    style = get_style_by_name(style_name)
    text = style.style_for_token(Text)["color"]
    foreground = f"#{text}" if text else ("#e6edf3" if dark else "#1f2328")
    return CodeTheme(style_name, style.background_color, foreground)


@lru_cache(maxsize=512)
def _css(style_name: str, token: _TokenType) -> str:
    """The inline CSS for one token type ("" when it looks like plain text)."""
    found = get_style_by_name(style_name).style_for_token(token)
    parts = []
    if found["color"]:
        parts.append(f"color:#{found['color']}")
    if found["bold"]:
        parts.append("font-weight:bold")
    if found["italic"]:
        parts.append("font-style:italic")
    return ";".join(parts)


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    """A lexer for a fence's language name, or None (unknown names stay plain)."""
    name = language.strip().lower()
    if not name:
        return None
    try:
        # Keep the text exactly as written: no stripped or added newlines, no tab expansion.
        return get_lexer_by_name(name, stripnl=False, ensurenl=False, stripall=False)
    except ClassNotFound:
        return None


def warm_up() -> None:
    """Build the common lexers on a background thread (once): the first build of one
    compiles its rules, a GUI stall of a tenth of a second or more if left to the first reply."""
    global _warm_up_started
    if not _warm_up_started:
        _warm_up_started = True
        threading.Thread(target=lambda: [_lexer(name) for name in WARM_UP], name="pygments-warm-up",
                         daemon=True).start()


def highlight_spans(code: str, language: str, dark: bool) -> str:
    """`code` escaped, with coloured spans where the language is known."""
    return _highlight(code, language, code_theme(dark).style)


@lru_cache(maxsize=256)
def _highlight(code: str, language: str, style_name: str) -> str:
    lexer = _lexer(language) if len(code) <= MAX_HIGHLIGHT else None
    if lexer is None:
        return html.escape(code, quote=False)
    out: list[str] = []
    run: list[str] = []  # adjacent tokens of one style become one span
    run_css = ""
    for token, value in lexer.get_tokens(code):
        css = run_css if value.isspace() else _css(style_name, token)  # spaces need no colour of their own
        if css != run_css and run:
            out.append(_span(run_css, "".join(run)))
            run = []
        run_css = css
        run.append(value)
    if run:
        out.append(_span(run_css, "".join(run)))
    return "".join(out)


def _span(css: str, text: str) -> str:
    escaped = html.escape(text, quote=False)
    return f'<span style="{css}">{escaped}</span>' if css else escaped


def code_block_html(code: str, language: str, dark: bool, top: bool = True, bottom: bool = True) -> str:
    """A block as a `<pre>` paragraph with the theme's background; long lines wrap.

    `top`/`bottom` False: no margin there, for the pieces of a block still streaming.
    """
    theme = code_theme(dark)
    # Line breaks at either end stay outside the spans, where Qt treats them as HTML says: it drops
    # the first after <pre> and the last before </pre>, hence the extra one in front.
    inner = code.strip("\n")
    start = len(code) - len(code.lstrip("\n"))
    leading, trailing = code[:start], code[start + len(inner):]
    body = ("\n" + leading if leading else "") + highlight_spans(inner, language, dark) + trailing
    margins = ("" if top else " margin-top:0;") + ("" if bottom else " margin-bottom:0;")
    return (f'<pre style="background-color:{theme.background}; color:{theme.foreground};{margins} '
            f'font-family:monospace; white-space:pre-wrap;">{body}</pre>')

"""The terminal printer keeps thinking visibly apart from the answer."""

import io

from app.cli.reply_printer import DIM, RESET, ReplyPrinter


def test_thinking_lines_are_prefixed_and_separated():
    out = io.StringIO()
    printer = ReplyPrinter(out, color=False)
    printer.write("first li", "")
    printer.write("ne\nsecond\n", "")
    printer.write("line", "")
    printer.write("", "The ")
    printer.write("", "answer.")
    printer.finish()
    assert out.getvalue() == "> first line\n> second\n> line\n\nThe answer.\n"


def test_thinking_is_dimmed_on_a_terminal():
    out = io.StringIO()
    printer = ReplyPrinter(out, color=True)
    printer.write("hm", "Yes")
    printer.finish()
    assert out.getvalue() == f"{DIM}> hm{RESET}\n\nYes\n"


def test_reply_without_thinking_is_unchanged():
    out = io.StringIO()
    printer = ReplyPrinter(out, color=True)
    printer.write("", " Hello")
    printer.write("", " world")
    printer.finish()
    assert out.getvalue() == " Hello world\n"


def test_thinking_that_never_ends_is_closed_at_the_end():
    out = io.StringIO()
    printer = ReplyPrinter(out, color=False)
    printer.write("still going", "")
    printer.finish()
    assert out.getvalue() == "> still going\n"

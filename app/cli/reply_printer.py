"""Print a streaming reply on a terminal with its thinking visibly apart.

Thinking lines are prefixed with "> " (and dimmed when stdout is a terminal);
a blank line separates them from the answer.
"""

from __future__ import annotations

from typing import TextIO

DIM = "\x1b[2m"
RESET = "\x1b[0m"
PREFIX = "> "


class ReplyPrinter:
    def __init__(self, out: TextIO, color: bool) -> None:
        self.out = out
        self.color = color
        self._in_thinking = False
        self._line_start = True

    def write(self, reasoning: str, answer: str) -> None:
        if reasoning:
            self._thinking(reasoning)
        if answer:
            if self._in_thinking:
                self._end_thinking()
            self.out.write(answer)
        self.out.flush()

    def finish(self) -> None:
        if self._in_thinking:  # thinking with no answer after it
            self._in_thinking = False
            if self.color:
                self.out.write(RESET)
        self.out.write("\n")
        self.out.flush()

    def _thinking(self, text: str) -> None:
        if not self._in_thinking:
            self._in_thinking = True
            if self.color:
                self.out.write(DIM)
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if i:
                self.out.write("\n")
                self._line_start = True
            if line:
                if self._line_start:
                    self.out.write(PREFIX)
                    self._line_start = False
                self.out.write(line)

    def _end_thinking(self) -> None:
        self._in_thinking = False
        if self.color:
            self.out.write(RESET)
        self.out.write("\n\n")
        self._line_start = True

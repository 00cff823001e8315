"""The limits a chat template renders within: a deadline, a size bound on every string or list
it builds (and on its output), and a bound on all it builds in one render (no Qt).

A chat template comes with a model file, so it may be hostile: nested loops, `'x' * 10**10`,
`'%999999999s' % 'x'`. The sandbox (template_sandbox.py) asks the render's budget before each
step that takes time or memory; a step past a limit raises TemplateLimitError.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from jinja2.utils import Namespace

DEADLINE_S = 2.0
MIN_CHARS = 8 << 20  # the size bound when the messages are short: 8 Mi characters
CHARS_PER_INPUT = 8  # ...or eight times the messages' own text, when that is more
TOTAL_FACTOR = 8  # all strings and lists built in one render: eight times the size bound
MAX_INT_BITS = 1 << 16  # integers past ~20,000 digits are refused (9**9**9 would never end)
ITEM_WEIGHT = 8  # a list item costs a reference (8 bytes), a character about one byte

_FORMAT_NUMBERS = re.compile(r"\d+")
_NESTED_FIELD = re.compile(r"\{[^{}]*\{")  # '{:{}}'.format(x, width): the width is an argument


class TemplateError(ValueError):
    """The chat template could not render this conversation."""


class TemplateLimitError(TemplateError):
    """The chat template went past a limit: too slow, or building something too big."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message  # the limit alone, without which template or what to do


@dataclass
class RenderBudget:
    seconds: float = DEADLINE_S
    max_chars: int = MIN_CHARS
    deadline: float = float("inf")
    total: int = 0
    steps: int = 0

    def __post_init__(self) -> None:
        self.max_total = self.max_chars * TOTAL_FACTOR

    def tick(self) -> None:
        """Raise once the render has run past its deadline (the clock is read every 16th step:
        a loop's step is bounded in size, so a few of them take milliseconds at most)."""
        self.steps += 1
        if not self.steps & 15:
            self.check_clock()

    def check_clock(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(f"it took longer than {self.seconds:g} s to render")

    def allow(self, size: int, what: str = "a string") -> None:
        """Refuse, before it is built, a string of `size` characters (or output: its text)."""
        if size > self.max_chars:
            raise TemplateLimitError(f"it tried to build {what} of {size:,} characters "
                                     f"(the limit is {self.max_chars:,})")

    def allow_items(self, items: int) -> None:
        """Refuse, before it is built, a list of `items` items (each weighs ITEM_WEIGHT characters)."""
        if items * ITEM_WEIGHT > self.max_chars:
            raise TemplateLimitError(f"it tried to build a list of {items:,} items "
                                     f"(the limit is {self.max_chars // ITEM_WEIGHT:,})")

    def spend(self, value: object) -> object:
        """Count a string or list the template built towards the render's total; returns it."""
        if isinstance(value, str):
            self.spend_size(len(value))
        elif isinstance(value, (list, tuple)):
            self.spend_size(len(value) * ITEM_WEIGHT)
        return value

    def spend_size(self, size: int) -> None:
        self.total += size
        if self.total > self.max_total:
            raise TemplateLimitError(f"it built more than {self.max_total:,} characters in all")

    def allow_text(self, value: object, what: str = "a string") -> None:
        """Refuse a value whose text (str(value)) would be too long: containers are measured first."""
        if not isinstance(value, str) or len(value) > self.max_chars:
            self.allow(text_size(value, self.max_chars), what)

    def allow_int(self, bits: int) -> None:
        if bits > MAX_INT_BITS:
            raise TemplateLimitError(f"it tried to build a number of about {bits * 3 // 10:,} digits")

    def allow_format(self, template: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """`'%10s' % x`, `'{:>10}'.format(x)` and the `format` filter: widths in the format and the
        arguments' text, added up, bound what the result can be."""
        size = len(template) + text_size(args, self.max_chars) + text_size(kwargs, self.max_chars)
        for number in _FORMAT_NUMBERS.findall(template):
            size += int(number) if len(number) < 12 else self.max_chars + 1
        if "*" in template or _NESTED_FIELD.search(template):  # widths taken from the arguments
            size += sum(abs(a) for a in (*args, *kwargs.values()) if isinstance(a, int))
        self.allow(size)


_current: contextvars.ContextVar[RenderBudget | None] = contextvars.ContextVar("template_budget", default=None)


active = _current.get  # the budget of the render under way, or None (the quickest look-up)


def current() -> RenderBudget:
    """The budget of the render under way in this thread (sizes still bounded outside one)."""
    return _current.get() or RenderBudget()


@contextlib.contextmanager
def render_budget(seconds: float, input_chars: int) -> Iterator[RenderBudget]:
    """Render inside this: the deadline starts now, the size bound grows with the messages."""
    budget = RenderBudget(seconds, max(MIN_CHARS, CHARS_PER_INPUT * input_chars), time.monotonic() + seconds)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


def text_size(value: object, cap: int) -> int:
    """About how many characters str(value) has; containers are walked (shared ones once), and
    counting stops soon after `cap`."""
    try:
        return _size(value, cap, {})
    except RecursionError:
        return cap + 1  # nested deeper than Python can print anyway


def _size(value: object, cap: int, memo: dict[int, int]) -> int:
    if isinstance(value, str):
        return len(value) + 4  # quotes and a separator inside a container
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 2
    if isinstance(value, float):
        return 24
    key = id(value)
    if key in memo:
        return memo[key]
    children = _children(value)
    if children is None:
        return 16  # an object that prints as a short repr (Undefined, a macro, a loop)
    memo[key] = 0  # a container that holds itself prints as "[...]"
    total = 2
    for child in children:
        total += _size(child, cap, memo)
        if total > cap:
            break
    memo[key] = total
    return total


def _children(value: object) -> Iterator[object] | None:
    if isinstance(value, Namespace):
        return _children(object.__getattribute__(value, "_Namespace__attrs"))
    if isinstance(value, dict):
        return (x for pair in value.items() for x in pair)
    if isinstance(value, (list, tuple, set, frozenset, range)) or type(value).__name__.startswith("dict_"):
        return iter(cast("Iterable[object]", value))
    return None


def bounded_items(items: Iterable[Any]) -> Iterator[Any]:
    """A loop's items, with the deadline checked before each one."""
    budget = current()
    for item in items:
        budget.tick()
        yield item

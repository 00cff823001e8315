"""Size checks, made before the call, for the string methods and filters that can build more than
they are given (`'x'.center(10**9)`, `|indent(10**6)`, `|batch(10**9, 0)`), and a clock check
after the filters that can take a while on big input (no Qt)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeGuard

from app.engine.template_budget import TemplateLimitError, bounded_items, current, text_size

_WIDTH_METHODS = {"center", "ljust", "rjust", "zfill"}
_SPLIT_METHODS = {"split", "rsplit", "splitlines"}
SLOW_INPUT_CHARS = 512 << 10  # urlize, wordwrap, title and pprint run Python code per word or item
_SLOW_FILTERS = ("urlize", "wordwrap", "title", "pprint")
SLOW_INPUT_ITEMS = 256 << 10  # sorting and grouping call Python code per item: ~0.1 s for this many
_SORTING_FILTERS = ("sort", "dictsort", "unique", "groupby")
CHECKED_FILTERS = (
    "center", "indent", "format", "replace", "batch", "slice", "join", "sum", "string", "tojson", "pprint", "list",
    "urlencode", "urlize", "xmlattr", "e", "escape", "forceescape", "wordwrap", "title",
    # these give no more than their input, but a call on a long list takes a while: the clock is read after it
    "sort", "dictsort", "unique", "groupby", "map", "select", "reject", "selectattr", "rejectattr", "min", "max",
    "striptags", "wordcount",
)


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def allow_product(left: object, right: object) -> None:
    budget = current()
    if is_int(left) and is_int(right):
        budget.allow_int(left.bit_length() + right.bit_length())
        return
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str) and is_int(times):
            budget.allow(len(seq) * max(times, 0))
        elif isinstance(seq, (list, tuple)) and is_int(times):
            budget.allow_items(len(seq) * max(times, 0))


def check_str_method(text: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Refuse a string method call whose result would be too big; returns the arguments to call with."""
    budget = current()
    if name in _WIDTH_METHODS and args and is_int(args[0]):
        budget.allow(max(len(text), args[0]))
    elif name == "expandtabs":
        size = args[0] if args and is_int(args[0]) else kwargs.get("tabsize", 8)
        budget.allow(len(text) + text.count("\t") * max(size if is_int(size) else 8, 0))
    elif name == "replace" and len(args) >= 2:
        _allow_replace(text, *args[:3])
    elif name == "join" and args:
        items = list(bounded_items(args[0]))
        size = sum(len(i) for i in items if isinstance(i, str))  # other items: Python refuses them
        budget.allow(size + len(text) * max(len(items) - 1, 0))
        return (items, *args[1:])
    elif name in ("format", "format_map"):
        budget.allow_format(text, args, kwargs)
    elif name in _SPLIT_METHODS:  # a list of as many strings as there are separators, ~50 bytes each
        separators = args[0] if args and isinstance(args[0], str) and name != "splitlines" else None
        count = text.count(separators) if separators else sum(map(text.count, " \t\n\r\f\v"))
        budget.allow_items(count + 1)
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        budget.allow(len(text) * longest)
    return args


def _allow_replace(text: object, old: object, new: object, count: object = None) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    times = text.count(old) if old else len(text) + 1
    if is_int(count) and count >= 0:
        times = min(times, count)
    current().allow(len(text) + times * (len(new) - len(old)))


def check_filter(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Refuse a filter call whose result would be too big; returns the arguments to call with."""
    budget = current()
    value: Any = args[0] if args else None
    rest = args[1:]

    def option(i: int, key: str, default: Any = None) -> Any:
        return rest[i] if len(rest) > i else kwargs.get(key, default)

    if name == "center" and is_int(option(0, "width")):
        budget.allow(option(0, "width"))
    elif name == "indent" and isinstance(value, str):
        width = option(0, "width", 4)
        per_line = width if is_int(width) else len(width) if isinstance(width, str) else 0
        budget.allow(len(value) + (value.count("\n") + 1) * per_line)
    elif name == "format" and isinstance(value, str):
        budget.allow_format(value, rest, kwargs)
    elif name == "replace" and len(rest) >= 2:
        _allow_replace(value, *rest[:3])
    elif name in ("batch", "slice") and is_int(option(0, "linecount" if name == "batch" else "slices")):
        budget.allow_items(option(0, "linecount" if name == "batch" else "slices"))
    elif name in ("join", "sum") and value is not None:
        items = list(bounded_items(value))
        budget.allow_items(len(items))
        separator = option(0, "d", "") if name == "join" else ""
        size = text_size(items, budget.max_chars)
        budget.allow(size + len(separator) * len(items) if isinstance(separator, str) else size)
        return (items, *rest)
    elif name == "list" and isinstance(value, str):
        budget.allow_items(len(value))
    elif name in ("string", "tojson", "pprint", "list", "urlencode", "xmlattr", "e", "escape", "forceescape"):
        budget.allow_text(value)
    if name in _SLOW_FILTERS and text_size(value, SLOW_INPUT_CHARS) > SLOW_INPUT_CHARS:
        raise TemplateLimitError(f"it gave the {name} filter more than {SLOW_INPUT_CHARS:,} characters")
    if name in _SORTING_FILTERS and hasattr(value, "__len__") and len(value) > SLOW_INPUT_ITEMS:
        raise TemplateLimitError(f"it gave the {name} filter more than {SLOW_INPUT_ITEMS:,} items")
    return args


def bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    passes_first = getattr(func, "jinja_pass_arg", None) is not None  # environment or context first

    @functools.wraps(func)  # keeps jinja_pass_arg
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget = current()
        head, rest = (args[:1], args[1:]) if passes_first else ((), args)
        rest = check_filter(name, rest, kwargs)
        result = budget.spend(func(*head, *rest, **kwargs))
        budget.check_clock()  # some filters take a while on a long list
        return result

    return bounded

"""The Jinja environment chat templates render in: jinja2's immutable sandbox, plus a check of
the render's budget (template_budget.py) at every step that can take time or memory.

Where the checks sit: every loop's items (the code generator wraps each `for` iterable), every
call (methods, macros, `loop(...)`), the operators `*`, `+`, `%`, `**` and `~`, every filter,
every `{{ value }}` (jinja2's `finalize`) and every joined output (`concat`: the template's own
output, a macro's, a `{% set %}` block's).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from types import FunctionType

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from app.engine.template_budget import ITEM_WEIGHT, active as _active, current, text_size

_ITER_FILTER = "hearth_bounded_items"
_WIDTH_METHODS = {"center", "ljust", "rjust", "zfill"}


def bounded_items(items: Iterable) -> Iterator:
    """A loop's items, with the deadline checked before each one."""
    budget = current()
    for item in items:
        budget.tick()
        yield item


class _BoundedCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame=None) -> None:
        for loop in node.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _ITER_FILTER, [], [], None, None, lineno=loop.lineno)
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame) -> None:  # the `~` operator
        self.write("environment.join_operands((")
        for operand in node.nodes:
            self.visit(operand, frame)
            self.write(", ")
        self.write("))")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "+", "%", "**"})

    def __init__(self, **options) -> None:
        # no constant folding: it would run `'x' * 10**10` while compiling, outside any budget
        super().__init__(optimized=False, finalize=_finalize, **options)
        self.globals.pop("lipsum", None)  # lipsum(10**9): and llama.cpp has no such function
        for name in _CHECKED_FILTERS:  # the others give at most their input's size
            if name in self.filters:
                self.filters[name] = _bounded_filter(name, self.filters[name])
        self.filters[_ITER_FILTER] = bounded_items

    def concat(self, pieces: Iterable[str]) -> str:  # type: ignore[override]
        """Join output pieces (a render's, a macro's, a block's), refusing an output past the bound."""
        budget = current()
        parts = list(pieces)  # the code that yields the pieces checks the deadline itself
        size = sum(map(len, parts))
        budget.allow(size, "an output")
        budget.spend_size(size)
        return "".join(parts)

    def join_operands(self, operands: tuple) -> str:
        budget = current()
        for operand in operands:
            if not isinstance(operand, str):
                budget.allow_text(operand)
        return self.concat(map(str, operands))

    def call_binop(self, context, operator: str, left, right):
        budget = _active() or current()
        if operator == "+":
            if isinstance(left, _SIZED) and isinstance(right, _SIZED):
                size = len(left) + len(right)
                if isinstance(left, str):
                    if size > budget.max_chars:
                        budget.allow(size)
                    budget.spend_size(size)
                else:
                    budget.allow_items(size)
                    budget.spend_size(size * ITEM_WEIGHT)
            return left + right
        if operator == "*":
            _allow_product(left, right)
        elif operator == "**" and _is_int(left) and _is_int(right) and right > 0:
            budget.allow_int(max(left.bit_length(), 1) * right)
        elif operator == "%" and isinstance(left, str):
            budget.allow_format(left, right if isinstance(right, tuple) else (right,), {})
        return budget.spend(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (jinja2's own signature)
        budget = _active() or current()
        budget.tick()  # macros may call themselves: each call counts as a step
        method = __obj.__wrapped__ if type(__obj) is FunctionType and hasattr(__obj, "__wrapped__") else __obj
        owner = getattr(method, "__self__", None)  # the sandbox wraps str.format: look inside
        if isinstance(owner, str):
            args = _check_str_method(owner, method.__name__, args, kwargs)
        elif isinstance(__obj, LoopContext) and args:  # a recursive loop's next level
            args = (bounded_items(args[0]), *args[1:])
        return budget.spend(super().call(__context, __obj, *args, **kwargs))


_SIZED = (str, list, tuple)
_CHECKED_FILTERS = ("center", "indent", "format", "replace", "batch", "slice", "join", "sum", "string", "tojson",
                    "pprint", "list", "urlencode", "urlize", "xmlattr", "e", "escape", "forceescape", "wordwrap")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _allow_product(left, right) -> None:
    budget = current()
    if _is_int(left) and _is_int(right):
        budget.allow_int(left.bit_length() + right.bit_length())
        return
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str) and _is_int(times):
            budget.allow(len(seq) * max(times, 0))
        elif isinstance(seq, (list, tuple)) and _is_int(times):
            budget.allow_items(len(seq) * max(times, 0))


def _check_str_method(text: str, name: str, args: tuple, kwargs: dict) -> tuple:
    """Refuse a string method call whose result would be too big; returns the arguments to call with."""
    budget = current()
    if name in _WIDTH_METHODS and args and _is_int(args[0]):
        budget.allow(max(len(text), args[0]))
    elif name == "expandtabs":
        size = args[0] if args and _is_int(args[0]) else kwargs.get("tabsize", 8)
        budget.allow(len(text) + text.count("\t") * max(size if _is_int(size) else 8, 0))
    elif name == "replace" and len(args) >= 2:
        _allow_replace(text, *args[:3])
    elif name == "join" and args:
        items = list(bounded_items(args[0]))
        size = sum(len(i) for i in items if isinstance(i, str))  # other items: Python refuses them
        budget.allow(size + len(text) * max(len(items) - 1, 0))
        return (items, *args[1:])
    elif name in ("format", "format_map"):
        budget.allow_format(text, args, kwargs)
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        budget.allow(len(text) * longest)
    return args


def _allow_replace(text, old, new, count=None) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    times = text.count(old) if old else len(text) + 1
    if _is_int(count) and count >= 0:
        times = min(times, count)
    current().allow(len(text) + times * (len(new) - len(old)))


def _finalize(value):
    """Every `{{ value }}` before it is printed: a container must not print as gigabytes."""
    if not isinstance(value, str):  # a string was bounded when it was built
        current().allow_text(value, "an output")
    return value


def _check_filter(name: str, args: tuple, kwargs: dict) -> tuple:
    """Refuse a filter call whose result would be too big; returns the arguments to call with."""
    budget = current()
    value, rest = (args[0], args[1:]) if args else (None, ())
    option = lambda i, key, default=None: rest[i] if len(rest) > i else kwargs.get(key, default)  # noqa: E731
    if name == "center" and _is_int(option(0, "width")):
        budget.allow(option(0, "width"))
    elif name == "indent" and isinstance(value, str):
        width = option(0, "width", 4)
        per_line = width if _is_int(width) else len(width) if isinstance(width, str) else 0
        budget.allow(len(value) + (value.count("\n") + 1) * per_line)
    elif name == "format" and isinstance(value, str):
        budget.allow_format(value, rest, kwargs)
    elif name == "replace" and len(rest) >= 2:
        _allow_replace(value, *rest[:3])
    elif name in ("batch", "slice") and _is_int(option(0, "linecount" if name == "batch" else "slices")):
        budget.allow_items(option(0, "linecount" if name == "batch" else "slices"))
    elif name in ("join", "sum") and value is not None:
        items = list(bounded_items(value))
        budget.allow_items(len(items))
        separator = option(0, "d", "") if name == "join" else ""
        size = text_size(items, budget.max_chars)
        budget.allow(size + len(separator) * len(items) if isinstance(separator, str) else size)
        return (items, *rest)
    elif name in ("string", "tojson", "pprint", "list", "urlencode", "xmlattr", "e", "escape", "forceescape"):
        budget.allow_text(value)
    return args


def _bounded_filter(name: str, func: Callable) -> Callable:
    passes_first = getattr(func, "jinja_pass_arg", None) is not None  # environment or context first

    @functools.wraps(func)  # keeps jinja_pass_arg
    def bounded(*args, **kwargs):
        budget = current()
        head, rest = (args[:1], args[1:]) if passes_first else ((), args)
        rest = _check_filter(name, rest, kwargs)
        return budget.spend(func(*head, *rest, **kwargs))

    return bounded

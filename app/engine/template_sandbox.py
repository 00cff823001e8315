"""The Jinja environment chat templates render in: jinja2's immutable sandbox, plus a check of
the render's budget (template_budget.py) at every step that can take time or memory.

Where the checks sit: every loop's items (the code generator wraps each `for` iterable), every
call (methods, macros, `loop(...)`), the operators `*`, `+`, `%`, `**` and `~`, every filter,
every `{{ value }}` (jinja2's `finalize`) and every joined output (`concat`: the template's own
output, a macro's, a `{% set %}` block's).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import FunctionType
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment, SecurityError

from app.engine.template_budget import ITEM_WEIGHT, bounded_items, current
from app.engine.template_budget import active as _active
from app.engine.template_checks import CHECKED_FILTERS, allow_product, bounded_filter, check_str_method, is_int

_ITER_FILTER = "hearth_bounded_items"


class _BoundedCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        for loop in node.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _ITER_FILTER, [], [], None, None, lineno=loop.lineno)
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # the `~` operator
        self.write("environment.join_operands((")
        for operand in node.nodes:
            self.visit(operand, frame)
            self.write(", ")
        self.write("))")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "+", "%", "**"})

    def __init__(self, **options: Any) -> None:
        # no constant folding: it would run `'x' * 10**10` while compiling, outside any budget
        super().__init__(optimized=False, finalize=_finalize, **options)
        self.globals.pop("lipsum", None)  # lipsum(10**9): and llama.cpp has no such function
        for name in CHECKED_FILTERS:  # the others give at most their input's size
            if name in self.filters:
                self.filters[name] = bounded_filter(name, self.filters[name])
        self.filters[_ITER_FILTER] = bounded_items

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """The immutable sandbox's rule, but a list may be appended to and popped from, as llama.cpp's Jinja
        engine allows: Kimi K2's templates queue the past calls' ids with `ids.append(...)` and `ids.pop(0)`
        (call() bounds an append)."""
        if type(obj) is list and attr in ("append", "pop"):
            return SandboxedEnvironment.is_safe_attribute(self, obj, attr, value)
        return super().is_safe_attribute(obj, attr, value)

    def concat(self, pieces: Iterable[str]) -> str:
        """Join output pieces (a render's, a macro's, a block's), refusing an output past the bound."""
        budget = current()
        parts = list(pieces)  # the code that yields the pieces checks the deadline itself
        size = sum(map(len, parts))
        budget.allow(size, "an output")
        budget.spend_size(size)
        return "".join(parts)

    def join_operands(self, operands: tuple[Any, ...]) -> str:
        budget = current()
        for operand in operands:
            if not isinstance(operand, str):
                budget.allow_text(operand)
        return self.concat(map(str, operands))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
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
            allow_product(left, right)
        elif operator == "**" and is_int(left) and is_int(right) and right > 0:
            budget.allow_int(max(left.bit_length(), 1) * right)
        elif operator == "%" and isinstance(left, str):
            budget.allow_format(left, right if isinstance(right, tuple) else (right,), {})
        return budget.spend(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (jinja2's own signature)
        budget = _active() or current()
        budget.check_clock()  # a macro may call itself, a method may work on a long string
        method = __obj.__wrapped__ if type(__obj) is FunctionType and hasattr(__obj, "__wrapped__") else __obj
        owner = getattr(method, "__self__", None)  # the sandbox wraps str.format: look inside
        if isinstance(owner, str):
            args = check_str_method(owner, method.__name__, args, kwargs)
        elif type(owner) is list and getattr(method, "__name__", "") == "append":
            if args and isinstance(args[0], (list, dict, tuple, set)):  # a list inside itself would print forever
                raise SecurityError("a template may append only plain values to a list")
            budget.allow_items(len(owner) + 1)
            budget.spend_size(ITEM_WEIGHT)
        elif isinstance(__obj, LoopContext) and args:  # a recursive loop's next level
            args = (bounded_items(args[0]), *args[1:])
        return budget.spend(super().call(__context, __obj, *args, **kwargs))


_SIZED = (str, list, tuple)


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` before it is printed: a container must not print as gigabytes."""
    if not isinstance(value, str):  # a string was bounded when it was built
        current().allow_text(value, "an output")
    return value

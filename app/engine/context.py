"""Token budget: fit a conversation into the context window.

Policies, chosen per chat:
- stop: refuse with a clear message when the prompt does not fit;
- truncate_middle: keep the system prompt and the newest messages, dropping
  from the middle; an over-long newest message is cut in its middle;
- rolling_window: drop the oldest whole turns (the system prompt stays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.engine.protocol import IMAGE_MARKER, ChatMessage, OverflowPolicy

TRUNCATION_MARK = "\n[…]\n"


@dataclass(frozen=True)
class Budget:
    messages: tuple[ChatMessage, ...]
    prompt_tokens: int
    untrimmed_tokens: int
    dropped_messages: int = 0
    truncated: bool = False
    fits: bool = True


def reply_reserve(n_ctx: int, max_tokens: int) -> int:
    """Room kept for the reply when trimming history."""
    cap = max(n_ctx // 4, 1)
    return min(max_tokens, cap) if max_tokens > 0 else min(512, cap)


def fit_messages(
    messages: Sequence[ChatMessage],
    count: Callable[[Sequence[ChatMessage]], int],
    n_ctx: int,
    policy: OverflowPolicy,
    max_tokens: int = 0,
) -> Budget:
    """Apply the overflow policy. `count` gives the exact prompt tokens of a message list."""
    messages = tuple(messages)
    total = count(messages)
    if policy == OverflowPolicy.STOP:
        # Refuse only when not even one reply token fits.
        return Budget(messages, total, total, fits=total < n_ctx)
    limit = n_ctx - reply_reserve(n_ctx, max_tokens)
    if total <= limit:
        return Budget(messages, total, total)

    system = [m for m in messages[:1] if m.role == "system"]
    rest = list(messages[len(system):])
    dropped = 0
    if policy == OverflowPolicy.ROLLING_WINDOW:
        # Drop whole turns: a user message and the replies that follow it.
        while len(rest) > 1:
            cut = 1
            while cut < len(rest) - 1 and rest[cut].role != "user":
                cut += 1
            rest = rest[cut:]
            dropped += cut
            n = count(system + rest)
            if n <= limit:
                return Budget(tuple(system + rest), n, total, dropped)
        n = count(system + rest)
        return Budget(tuple(system + rest), n, total, dropped, fits=n < n_ctx)

    # truncate_middle: drop the oldest messages after the system prompt, one at a time.
    while len(rest) > 1:
        rest = rest[1:]
        dropped += 1
        n = count(system + rest)
        if n <= limit:
            return Budget(tuple(system + rest), n, total, dropped)
    # Only the newest message is left and it is still too long: cut its middle (its images stay).
    last = rest[-1]
    text = last.content
    lo, hi = 0, len(text)
    best: tuple[ChatMessage, ...] | None = None
    best_n = 0
    while lo <= hi:  # the largest kept length that fits
        keep = (lo + hi) // 2
        cut_text = cut_middle(text, keep) if keep < len(text) else text
        candidate = tuple(system + [ChatMessage(last.role, cut_text, images=last.images)])
        n = count(candidate)
        if n <= limit:
            best, best_n = candidate, n
            lo = keep + 1
        else:
            hi = keep - 1
    if best is None:
        least = tuple(system + [ChatMessage(last.role, cut_middle(text, 0), images=last.images)])
        n = count(least)
        return Budget(least, n, total, dropped, True, n < n_ctx)
    return Budget(best, best_n, total, dropped, truncated=True)


def cut_middle(text: str, keep: int) -> str:
    """`text` with its middle replaced by TRUNCATION_MARK, keeping about `keep` characters of its ends.

    An image marker is never cut through: the ends stop at a marker's edge, and each marker in the
    cut middle stays (after the mark), so every image still has its place and the engine is never
    given a marker's pieces as text."""
    head, tail = keep // 2, len(text) - (keep - keep // 2)
    for start in _marker_starts(text):
        end = start + len(IMAGE_MARKER)
        if start < head < end:
            head = start
        if start < tail < end:
            tail = end
    tail = max(tail, head)
    return text[:head] + TRUNCATION_MARK + IMAGE_MARKER * text[head:tail].count(IMAGE_MARKER) + text[tail:]


def _marker_starts(text: str) -> list[int]:
    starts, at = [], text.find(IMAGE_MARKER)
    while at >= 0:
        starts.append(at)
        at = text.find(IMAGE_MARKER, at + len(IMAGE_MARKER))
    return starts


def refusal_message(budget: Budget, policy: OverflowPolicy, n_ctx: int) -> str:
    """Why a prompt that does not fit is refused, and what the user can do (never the policy already chosen)."""
    if policy == OverflowPolicy.ROLLING_WINDOW:
        last = next((m for m in reversed(budget.messages) if m.role != "system"), None)
        which = f"the latest {last.role} message" if last is not None else "the system prompt"
        return (f"{which} is too long: even with every older message dropped the prompt is "
                f"{budget.prompt_tokens} tokens but the context holds {n_ctx}; shorten that message "
                "or the system prompt, or raise the context size")
    last = budget.messages[-1] if budget.messages else None
    if last is not None and last.images and budget.truncated and not budget.fits:
        pictures = "picture alone takes" if len(last.images) == 1 else f"{len(last.images)} pictures alone take"
        return (f"the latest message's {pictures} more room than the context holds "
                f"({budget.prompt_tokens} tokens with everything else cut, the context holds {n_ctx}): "
                "raise the context size or send fewer pictures")
    return too_long_message(budget.prompt_tokens, n_ctx)


def too_long_message(prompt_tokens: int, n_ctx: int) -> str:
    """The one message for a prompt that does not fit the context (the policy check and the engine's last guard)."""
    return (f"the conversation is {prompt_tokens} tokens but the context holds {n_ctx}: "
            "start a new chat, shorten the message, raise the context size, "
            "or let the chat drop older messages (overflow policy)")

"""Make tests/store/shipped/vN.sql: a database written by an earlier commit's own store code, as SQL text.

Run with that commit's tree first on the path (see README.md in this folder):
    git -C /work/main worktree add --detach /tmp/old-72dff71 72dff71
    PYTHONPATH=/tmp/old-72dff71 python tests/store/shipped/make_shipped.py v1.sql
Uses only what that commit's ConversationStore (and Comparisons, where it exists) offers, so each
dump holds what a user of that version could have: titles, system prompts, settings, messages,
reasoning, alternatives with a choice, comparisons.
"""

from __future__ import annotations

import inspect
import sqlite3
import sys
import tempfile
from pathlib import Path

from app.store.conversations import ConversationStore


def fill(store: ConversationStore) -> None:
    has = set(inspect.signature(store.add_message).parameters)
    chat_has = set(inspect.signature(store.create_chat).parameters)
    extra = {"thinking": "off"} if "thinking" in chat_has else {}
    a = store.create_chat("Tea “notes” — ünïcode", system_prompt="You are terse.\nTwo lines.",
                          model_path="/models/tiny.gguf", sampling={"temperature": 0.3, "seed": 7},
                          overflow="stop", **extra)
    if not extra:  # a release that kept the switch but set it only after creation
        try:
            store.update_chat(a.id, thinking="off")
        except (ValueError, sqlite3.OperationalError):
            pass  # no Thinking switch yet
    store.add_message(a.id, "user", "How long to steep green tea?")
    reasoning = {"reasoning": "Green tea: lower temperature, short time."} if "reasoning" in has else {}
    stats = {"completion_tokens": 12, "decode_tok_s": 40.5, "stop_reason": "stop"}
    store.add_message(a.id, "assistant", "Two to three minutes at 80 °C.", model="Tiny 1B",
                      sampling={"temperature": 0.3}, stats=stats, **reasoning)
    store.add_message(a.id, "user", "And black tea? 'quotes' and \"doubles\"")
    last = store.add_message(a.id, "assistant", "Four min", model="Tiny 1B", complete=False)
    store.update_message(last.id, content="Four minutes, boiling.", complete=False, error="Stopped: cancelled")
    b = store.create_chat("Second chat")
    store.add_message(b.id, "system", "A system line kept as a message")
    needle = store.add_message(b.id, "user", "searchable needle here")
    if "parent_id" in has:  # alternatives: a regenerated reply and an edited question, each with a branch
        first = store.add_message(b.id, "assistant", "first answer", model="M")
        store.add_message(b.id, "assistant", "second answer", model="M", parent_id=needle.id)
        store.add_message(b.id, "user", "follow-up on the second")
        store.select_alternative(first.id)  # the first answer is shown again; the second keeps its branch
        edited = store.add_message(b.id, "user", "an edited question", parent_id=needle.parent_id)
        store.add_message(b.id, "assistant", "answer to the edit", parent_id=edited.id)
        store.select_alternative(needle.id)  # back to the original question, its first answer shown
    else:
        store.add_message(b.id, "assistant", "plain answer", model="M")
    store.create_chat("Empty chat")
    try:
        from app.store.comparisons import Comparisons
    except ImportError:
        return
    saved = Comparisons(store)
    comparison = saved.create("Tea models", run_mode="together")
    for path in ("/models/a.gguf", "/models/b.gguf"):
        column = saved.add_column(comparison.id, path, {"n_ctx": 4096}, {"temperature": 0.5})
        store.add_message(column.chat_id, "user", "Same prompt")
        store.add_message(column.chat_id, "assistant", f"reply from {path}", model=Path(path).stem,
                          stats={"completion_tokens": 3, "n_ctx": 4096})
    saved.create("Empty comparison")


def main() -> None:
    out = Path(__file__).with_name(sys.argv[1])
    with tempfile.TemporaryDirectory() as folder:
        store = ConversationStore(Path(folder) / "chats.db")
        fill(store)
        store.close()
        db = sqlite3.connect(Path(folder) / "chats.db")
        out.write_text("\n".join(db.iterdump()) + "\n", encoding="utf-8")
        db.close()


if __name__ == "__main__":
    main()

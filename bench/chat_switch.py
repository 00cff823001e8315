"""Going back to a chat after another: the first token with prompts kept in RAM, without, and in llama-server.

A user with several long chats open switches between them; each time, the chat's whole history is
the prompt. One sequence holds one prompt, so without a RAM store every switch reads the history
again. Servers, each answering one request at a time (as a chat in the window is answered):
- `hearth serve --parallel 1` with its prompt store (the automatic size: prompt_store.py);
- the same with `--prompt-cache 0` (no store: the cache holds only the last prompt);
- llama-server `-np 1`, whose --cache-ram (8 GiB by default) keeps finished prompts.

--chats conversations, each opened with a long message (--history tokens, roughly), are then visited
in turn for --rounds rounds; every visit adds the last reply and a short question. The servers take
turns visit by visit (the order rotating), so a busy moment on the machine falls on each alike. The
table gives each server's median time to first token over the visits that came back to a chat, with
the tokens it read (the prompt's tokens less the ones found cached, from the reply's usage or timings).

    python bench/chat_switch.py --chats 3 --rounds 4
    python bench/chat_switch.py --model ~/.cache/hearth/test-models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)
from _common import print_table
from serve_throughput import HearthServer, stream_chat

from tests.support.servers import LlamaServer, llama_server_binary

TOPICS = ["rivers", "bread", "trains", "bees", "glass", "chess", "owls", "clocks"]


def opening(chat: int, words: int) -> str:
    topic = TOPICS[chat % len(TOPICS)]
    facts = " ".join(f"Note {i} about {topic}: item {chat * 1000 + i} is worth remembering." for i in range(words // 9))
    return f"Here are my notes on {topic}. {facts} Summarise them in one sentence."


def visit(url: str, messages: list[dict], max_tokens: int) -> tuple[float, str, int]:
    """(time to first token, reply, prompt tokens read rather than found cached) of one streamed reply."""
    body = {"model": "m", "messages": messages, "temperature": 0, "max_tokens": max_tokens, "stream": True,
            "stream_options": {"include_usage": True}}
    t0, ttft, text, read = time.perf_counter(), 0.0, [], -1
    for payload in stream_chat(url, body):
        if timings := payload.get("timings"):  # llama-server's: prompt_n is what it read
            read = int(timings.get("prompt_n", read))
        if usage := payload.get("usage"):
            cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
            read = read if read >= 0 else int(usage["prompt_tokens"]) - int(cached or 0)
        for choice in payload.get("choices") or []:
            if piece := (choice.get("delta") or {}).get("content"):
                text.append(piece)
                ttft = ttft or time.perf_counter() - t0
    return ttft, "".join(text), read


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path,
                        default=Path.home() / ".cache/hearth/test-models/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--chats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--history", type=int, default=1200, help="words in each chat's opening message")
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=8192)
    args = parser.parse_args()
    binary, why = llama_server_binary()
    if binary is None:
        print(f"llama-server missing: {why}", file=sys.stderr)
        return 1
    reference = LlamaServer(binary, args.model, ctx=args.ctx)
    reference.cmd[reference.cmd.index("-t") + 1] = str(args.threads)
    reference.cmd += ["-fa", "off"]
    def hearth(store_mib: int) -> HearthServer:  # one sequence, as a chat in the window
        return HearthServer(args.model, args.threads, args.ctx, 1, "off", ["--prompt-cache", str(store_mib)])

    servers = {"hearth (prompts kept in RAM)": hearth(-1), "hearth --prompt-cache 0": hearth(0),
               "llama-server -np 1": reference}
    names = list(servers)
    chats = {name: [[{"role": "user", "content": opening(c, args.history)}] for c in range(args.chats)]
             for name in names}
    ttft: dict[str, list[float]] = {name: [] for name in names}
    read: dict[str, list[int]] = {name: [] for name in names}
    try:
        for server in servers.values():
            server.start()
        for r in range(args.rounds):
            for c in range(args.chats):
                for k in range(len(names)):
                    name = names[(r * args.chats + c + k) % len(names)]
                    messages = chats[name][c]
                    first, reply, n_read = visit(servers[name].url, messages, args.max_tokens)
                    messages += [{"role": "assistant", "content": reply},
                                 {"role": "user", "content": f"Thanks. Question {r + 1}: and then?"}]
                    if r > 0:  # back to a chat the server has seen, after the others
                        ttft[name].append(first)
                        read[name].append(n_read)
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for server in servers.values():
            server.stop()
    print(f"model {args.model.name}, {args.chats} chats of about {args.history} words each visited in turn, "
          f"{args.rounds - 1} rounds back, {args.threads} threads, flash attention off, medians")
    ref = statistics.median(ttft[names[-1]])
    rows = [[name, f"{statistics.median(ttft[name]) * 1000:.0f}", f"{statistics.median(ttft[name]) / ref:.2f}x",
             f"{statistics.median(read[name])}"] for name in names]
    print_table(["server", "first token when back, ms", "vs llama-server", "prompt tokens read"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

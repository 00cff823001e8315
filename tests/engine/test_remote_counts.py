"""A remote reply's token count is the built-in engine's: llama-server's end token is not a reply token."""

from __future__ import annotations

import pytest

from app.engine import protocol as p
from app.engine.remote_stream import ReplyReader
from app.engine.sampling import SamplingParams

TIMINGS = {"predicted_n": 10, "prompt_n": 31}


def read(finish: str, usage_chunk: dict, stop: tuple[str, ...] = ()) -> p.Done:
    reader = ReplyReader("http://127.0.0.1:1", 2048, SamplingParams(temperature=0, stop=stop))
    payloads = [{"choices": [{"index": 0, "delta": {"content": "Hello!"}, "finish_reason": None}]},
                {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]},
                {"choices": [], **usage_chunk}]
    events = list(reader.events(1, iter(payloads), lambda: False))
    assert isinstance(events[-1], p.Done)
    return events[-1]


@pytest.mark.parametrize(("finish", "usage_chunk", "stop", "expected"), [
    ("stop", {"usage": {"completion_tokens": 10}, "timings": TIMINGS}, (), 9),  # llama-server: EOS counted
    ("tool_calls", {"usage": {"completion_tokens": 10}, "timings": TIMINGS}, (), 9),  # ended on EOS as well
    ("length", {"usage": {"completion_tokens": 10}, "timings": TIMINGS}, (), 10),  # cut: no end token
    ("stop", {"usage": {"completion_tokens": 10}, "timings": TIMINGS}, ("###",), 10),  # may be a stop string
    ("stop", {"usage": {"completion_tokens": 10}}, (), 10),  # another server: its own count stands
    ("stop", {}, (), 1),  # no usage at all: the tokens streamed
])
def test_the_end_token_llama_server_counts_is_not_a_reply_token(finish, usage_chunk, stop, expected):
    assert read(finish, usage_chunk, stop).stats.completion_tokens == expected

"""`hearth chat --json --logprobs N`: each token's log-probability and its N best alternatives."""

import json
import math

from tests.cli.test_chat import hearth


def test_chat_json_lists_the_reply_tokens_with_alternatives(scripted_model):
    result = hearth("chat", "--model", str(scripted_model), "--json", "--temperature", "0", "--ctx", "256",
                    "--logprobs", "3", "Hello")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    steps = data["logprobs"]
    assert "".join(s["token"] for s in steps) == data["reply"] == " Hello world"
    assert len(steps) == data["completion_tokens"]
    for step in steps:
        assert len(step["top_logprobs"]) == 3
        assert step["top_logprobs"][0]["token"] == step["token"]  # greedy: the best token was picked
        assert 0 < math.exp(step["logprob"]) <= 1


def test_logprobs_out_of_range_or_without_json_is_one_line(scripted_model):
    for extra in (["--json", "--logprobs", "21"], ["--logprobs", "2"]):
        result = hearth("chat", "--model", str(scripted_model), *extra, "Hello")
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--logprobs" in result.stderr

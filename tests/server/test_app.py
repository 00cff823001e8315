"""Hearth's server, driven by the official openai client."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from app import cli
from app.engine.protocol import StopReason

openai = pytest.importorskip("openai", reason="the openai client is a test dependency (pip install -e .[test])")

QUESTION = "What is the capital of France?"
# Greedy and without the repeat penalty `hearth chat` adds by default: the server's neutral defaults.
GREEDY = ["--temperature", "0", "--repeat-penalty", "1.0", "--top-k", "0", "--min-p", "0", "--top-p", "1"]


def hearth_chat(capsys, smollm2, max_tokens: int) -> dict:
    code = cli.main(["chat", QUESTION, "--model", str(smollm2), "--ctx", "2048", "--gpu-layers", "0",
                     "--max-tokens", str(max_tokens), "--json", *GREEDY])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def client(url: str):  # an openai.OpenAI (openai is a module variable here: no annotation can name it)
    return openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=60)


def test_plain_and_streamed_replies_equal_hearth_chat_with_exact_usage(served, smollm2, capsys):
    url, _, _ = served
    expected = hearth_chat(capsys, smollm2, 24)
    api = client(url)
    messages = [{"role": "user", "content": QUESTION}]

    plain = api.chat.completions.create(model="smollm2", messages=messages, temperature=0, max_tokens=24)
    assert plain.choices[0].message.content == expected["reply"]
    assert plain.usage.prompt_tokens == expected["prompt_tokens"]
    assert plain.usage.completion_tokens == expected["completion_tokens"]
    assert plain.usage.total_tokens == expected["prompt_tokens"] + expected["completion_tokens"]

    chunks = list(api.chat.completions.create(model="smollm2", messages=messages, temperature=0, max_tokens=24,
                                              stream=True, stream_options={"include_usage": True}))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == expected["reply"]
    assert chunks[-1].usage.prompt_tokens == expected["prompt_tokens"]
    assert chunks[-1].usage.completion_tokens == expected["completion_tokens"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"


def test_models_and_health(served):
    url, _, _ = served
    assert [m.id for m in client(url).models.list()] == ["smollm2"]
    assert httpx.get(url + "/health").json()["status"] == "ok"


def test_raw_completion_continues_the_prompt(served):
    url, _, _ = served
    reply = client(url).completions.create(model="smollm2", prompt="The capital of France is", temperature=0,
                                           max_tokens=3)
    assert reply.choices[0].text.startswith(" Paris")
    assert reply.usage.completion_tokens == 3
    assert reply.usage.prompt_tokens == 5  # the prompt as given: 5 tokens (SmolLM2 adds no BOS)
    streamed = list(client(url).completions.create(model="smollm2", prompt="The capital of France is",
                                                   temperature=0, max_tokens=3, stream=True))
    assert "".join(c.choices[0].text for c in streamed) == reply.choices[0].text


def test_bad_json_bad_fields_and_big_bodies_get_openai_errors(served):
    url, _, _ = served
    bad = httpx.post(url + "/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as info:
        client(url).chat.completions.create(model="smollm2", messages=[{"role": "user", "content": "hi"}],
                                            temperature="hot")
    assert "temperature" in str(info.value)
    wrong_role = httpx.post(url + "/v1/chat/completions", json={"messages": [{"role": "wizard", "content": "x"}]})
    assert wrong_role.status_code == 400 and wrong_role.json()["error"]["param"] == "messages"
    big = httpx.post(url + "/v1/chat/completions",
                     json={"messages": [{"role": "user", "content": "x" * 100_000}]})
    assert big.status_code == 413
    assert "over" in big.json()["error"]["message"]
    assert httpx.get(url + "/v1/nothing").status_code == 404
    # The server is still up and answering after all of it.
    assert client(url).chat.completions.create(model="smollm2", messages=[{"role": "user", "content": "hi"}],
                                               max_tokens=2).choices[0].message.content


def test_two_concurrent_clients_are_both_answered(served):
    url, _, _ = served
    replies: dict[int, str] = {}

    def ask(n: int) -> None:
        reply = client(url).chat.completions.create(
            model="smollm2", messages=[{"role": "user", "content": QUESTION}], temperature=0, max_tokens=12)
        replies[n] = reply.choices[0].message.content

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(replies) == 2 and replies[0] == replies[1] and replies[0]


def test_a_streaming_client_that_disconnects_cancels_its_generation(served):
    url, engine, app = served
    engine.endings.clear()
    body = {"messages": [{"role": "user", "content": "Write a very long story about a dragon."}],
            "max_tokens": 1500, "stream": True}
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=60) as response:
        lines = response.iter_lines()
        assert next(line for line in lines if line.startswith("data:"))
    # Hang up after the first token; the generation must end cancelled, not run its 1500 tokens.
    done = threading.Event()
    check = threading.Thread(target=lambda: (_wait_for(lambda: engine.endings), done.set()), daemon=True)
    check.start()
    assert done.wait(60)
    ending = engine.endings[-1]
    assert ending.stats.stop_reason == StopReason.CANCELLED, ending
    assert ending.stats.completion_tokens < 1500
    assert not app.state.slot.busy or _wait_for(lambda: not app.state.slot.busy)


def test_a_plain_client_that_disconnects_cancels_its_generation(served):
    url, engine, _ = served
    engine.endings.clear()
    body = {"messages": [{"role": "user", "content": "Write a very long story about a dragon."}], "max_tokens": 1500,
            "temperature": 0}
    # the client gives up long before any reply could be whole (the prompt alone takes longer to evaluate)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url + "/v1/chat/completions", json=body, timeout=httpx.Timeout(60, read=0.05))
    assert _wait_for(lambda: engine.endings)
    assert engine.endings[-1].stats.stop_reason == StopReason.CANCELLED


def _wait_for(condition, timeout: float = 60.0) -> bool:
    event = threading.Event()
    deadline = timeout
    while not condition():
        if deadline <= 0:
            return False
        event.wait(0.02)
        deadline -= 0.02
    return True


def test_a_lone_surrogate_or_deeply_nested_json_gets_a_plain_400_and_no_traceback(served, caplog):
    import logging

    url, _, _ = served
    logger = logging.getLogger("uvicorn.error")  # where uvicorn logs an app's traceback
    logger.addHandler(caplog.handler)
    json_type = {"Content-Type": "application/json"}
    try:
        for body in ('{"messages":[{"role":"user","content":"hi \\ud800 there"}],"max_tokens":4}',
                     '{"messages":[{"role":"user","content":[{"type":"text","text":"\\udfff"}]}]}',
                     '{"prompt":"\\ud83d","max_tokens":2}'):
            path = "/v1/completions" if "prompt" in body else "/v1/chat/completions"
            answer = httpx.post(url + path, content=body.encode(), headers=json_type, timeout=60)
            assert answer.status_code == 400, answer.text
            assert "lone surrogate" in answer.json()["error"]["message"]
        deep = httpx.post(url + "/v1/chat/completions", content=b"[" * 20_000 + b"]" * 20_000, headers=json_type)
        assert deep.status_code == 400
        assert deep.json()["error"]["message"] == "the request body nests JSON arrays or objects too deeply"
    finally:
        logger.removeHandler(caplog.handler)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # A proper pair (an emoji written as two escapes) is text, and is answered.
    emoji = '{"messages":[{"role":"user","content":"\\ud83d\\ude00"}],"max_tokens":2}'
    assert httpx.post(url + "/v1/chat/completions", content=emoji.encode(), headers=json_type,
                      timeout=60).status_code == 200


def test_a_conversation_resent_after_another_is_found_in_ram_and_usage_says_so(served):
    url, _, _ = served
    api = client(url)
    notes = {topic: [{"role": "user", "content": f"My notes on {topic}. " + " ".join(
        f"Item {i} about {topic} is worth keeping." for i in range(40))}] for topic in ("rivers", "bread")}
    first = {}
    for topic in ("rivers", "bread", "rivers"):  # rivers, bread, then rivers resent with a follow-up
        if topic in first:
            notes[topic] += [{"role": "assistant", "content": first[topic]}, {"role": "user", "content": "And?"}]
        answer = api.chat.completions.create(model="smollm2", messages=notes[topic], temperature=0, max_tokens=6)
        first.setdefault(topic, answer.choices[0].message.content)
    usage = answer.usage
    assert usage.prompt_tokens > 300
    assert usage.prompt_tokens - usage.prompt_tokens_details.cached_tokens < 30  # the follow-up alone was read

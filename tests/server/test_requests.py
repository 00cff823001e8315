"""OpenAI request bodies: what is accepted, and a plain 400 message naming the field for what is not."""

import pytest

from app.engine.protocol import ChatMessage
from app.server.requests import BadRequest, parse_chat, parse_completion, sampling_from


def test_a_chat_body_becomes_messages_and_sampling():
    body = parse_chat({
        "messages": [{"role": "developer", "content": "Be brief."},
                     {"role": "user", "content": [{"type": "text", "text": "Capital "},
                                                  {"type": "text", "text": "of France?"}]}],
        "temperature": 0, "max_tokens": 20, "stop": "\n", "stream": True, "stream_options": {"include_usage": True},
    })
    assert body.conversation.history() == [ChatMessage("system", "Be brief."),
                                           ChatMessage("user", "Capital of France?")]
    assert (body.sampling.temperature, body.sampling.max_tokens, body.sampling.stop) == (0, 20, ("\n",))
    assert body.stream and body.include_usage


def test_unset_fields_are_neutral_as_in_openais_api():
    sampling = sampling_from({})
    assert (sampling.temperature, sampling.top_p, sampling.top_k, sampling.min_p, sampling.repeat_penalty) == (
        1.0, 1.0, 0, 0.0, 1.0)
    assert sampling_from({"max_completion_tokens": 5, "max_tokens": 9}).max_tokens == 5
    assert sampling_from({"seed": 2**40 + 3}).seed == 3  # folded into llama.cpp's 32-bit seed
    assert sampling_from({"seed": -5}).seed == -1


@pytest.mark.parametrize("body,field,words", [
    ([], None, "JSON object"),
    ({"messages": []}, "messages", "non-empty list"),
    ({"messages": ["hi"]}, "messages", "must be an object"),
    ({"messages": [{"role": "function", "content": "x"}]}, "messages", "role must be one of"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "messages", 'needs a "url"'),
    ({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}, "messages", "only text and image_url"),
    ({"messages": [{"role": "user", "content": 5}]}, "messages", "must be a string"),
    ({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}, "temperature", "must be a number"),
    ({"messages": [{"role": "user", "content": "x"}], "temperature": 9}, "temperature", "between 0 and 2"),
    ({"messages": [{"role": "user", "content": "x"}], "top_k": 2.5}, "top_k", "an integer"),
    ({"messages": [{"role": "user", "content": "x"}], "max_tokens": True}, "max_tokens", "an integer"),
    ({"messages": [{"role": "user", "content": "x"}], "stop": ["a"] * 5}, "stop", "up to 4"),
    ({"messages": [{"role": "user", "content": "x"}], "n": 2}, "n", "only 'n': 1"),
    ({"messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream", "true or false"),
    ({"messages": [{"role": "user", "content": "x"}], "stream_options": 3}, "stream_options", "an object"),
])
def test_bad_chat_bodies_name_the_field_and_say_what_is_wrong(body, field, words):
    with pytest.raises(BadRequest) as caught:
        parse_chat(body)
    assert caught.value.param == field and words in caught.value.message


def test_a_completion_takes_one_prompt_and_defaults_to_sixteen_tokens():
    body = parse_completion({"prompt": ["Once upon a time"]})
    assert body.prompt == "Once upon a time" and body.sampling.max_tokens == 16
    assert parse_completion({"prompt": "x", "max_tokens": 3}).sampling.max_tokens == 3
    with pytest.raises(BadRequest) as caught:
        parse_completion({"prompt": ["a", "b"]})
    assert caught.value.param == "prompt"

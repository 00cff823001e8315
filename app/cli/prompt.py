"""`hearth prompt`: print exactly the text a model is given for a conversation.

Loads only the vocabulary (llama.cpp `vocab_only`) and encodes with the engine's own
PromptEncoder, so the token count equals what `hearth chat` evaluates.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.chat.conversation import Conversation
from app.chat.images import MemoryImages
from app.chat.message import Message
from app.cli.common import CliError
from app.cli.prompt_images import (
    add_prompt_image_args,
    attach_files,
    content_parts,
    encode_with_images,
    projector_path,
)

THINKING = ("default", "on", "off", "low", "medium", "high")


def add_command(sub: argparse._SubParsersAction) -> None:
    prompt = sub.add_parser("prompt", help="print the exact prompt text a model is given")
    prompt.add_argument("--model", required=True, help="path of a GGUF model file")
    prompt.add_argument("--messages", required=True, help='a JSON file: a list of {"role", "content"}')
    prompt.add_argument("--chat-template-file", default="", help="a .jinja template used instead of the model's")
    prompt.add_argument("--system", default="", help="system prompt put before the messages")
    prompt.add_argument("--thinking", choices=THINKING, default="default")
    prompt.add_argument("--json", action="store_true", help="print {prompt, prompt_tokens, chat_template}")
    add_prompt_image_args(prompt)
    prompt.set_defaults(handler=run_prompt)


def read_messages(path: str, images: MemoryImages | None = None) -> list[Message]:
    """The messages file as Messages; a CliError with one plain line when it is wrong. With `images`, a
    content may be a list of OpenAI parts whose pictures go there (prompt_images.py)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"messages file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read the messages file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, list) or not data:
        raise CliError(f"{path} must hold a non-empty JSON list of {{\"role\", \"content\"}} objects")
    messages = []
    for n, item in enumerate(data, 1):
        if isinstance(item, dict) and isinstance(item.get("content"), list) and images is not None \
                and item.get("role") in ("system", "user", "assistant"):
            messages.append(Message.from_openai(item["role"], content_parts(item["content"], images,
                                                                             f"{path}: message {n}")))
            continue
        if not (isinstance(item, dict) and isinstance(item.get("role"), str) and isinstance(item.get("content"), str)):
            raise CliError(f"{path}: message {n} needs a string \"role\" and a string \"content\"")
        if item["role"] not in ("system", "user", "assistant"):
            raise CliError(f"{path}: message {n} has role {item['role']!r}; use system, user or assistant")
        messages.append(Message.plain(item["role"], item["content"], str(item.get("reasoning", ""))))
    return messages


def run_prompt(args: argparse.Namespace) -> int:
    import llama_cpp

    from app.engine.chat_template import TemplateError
    from app.engine.llama_backend import ensure_backend
    from app.engine.prompt_encoder import PromptEncoder
    from app.engine.protocol import EngineError
    from app.library.gguf_info import GGUFFileError, read_gguf_info

    bank = MemoryImages()
    conversation = Conversation.of(read_messages(args.messages, bank), system_prompt=args.system or "")
    attach_files(args.image, conversation, bank)
    conversation.images = bank.read
    messages = conversation.history()
    projector = projector_path(args) if any(m.images for m in messages) else ""
    counts: list[int] = []
    try:
        info = read_gguf_info(args.model)
    except GGUFFileError as exc:
        raise CliError(str(exc)) from None
    ensure_backend()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(info.shard_paths[0]).encode(), params)
    if not model:
        raise CliError(f"llama.cpp could not read the vocabulary of {args.model}")
    try:
        encoder = PromptEncoder(llama_cpp.llama_model_get_vocab(model), info.chat_template, args.chat_template_file)
        if projector:
            text, n_tokens, counts = encode_with_images(model, encoder, projector, messages, args.thinking)
        else:
            text, tokens = encoder.encode(messages, args.thinking)
            n_tokens = len(tokens)
    except EngineError as exc:
        raise CliError(exc.message) from None
    except TemplateError as exc:
        raise CliError(str(exc)) from None
    finally:
        llama_cpp.llama_model_free(model)
    if args.json:
        shown = {"image_tokens": counts} if counts else {}
        print(json.dumps({"prompt": text, "prompt_tokens": n_tokens, "chat_template": encoder.template.origin,
                          **shown}))
    else:
        sys.stdout.write(text)
        if not text.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()
        if counts:  # where the pictures went is marked in the text; their total here
            sys.stderr.write(f"{n_tokens} prompt tokens, {sum(counts)} of them for {len(counts)} image"
                             f"{'s' if len(counts) != 1 else ''}\n")
    return 0

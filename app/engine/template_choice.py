"""Which chat template a model is rendered with: a user's file, the GGUF's own, a
built-in one matching the vocabulary's chat tokens, or plain completion for base models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.engine.builtin_templates import CHATML, COMPLETION, choose_builtin
from app.engine.chat_template import ChatTemplate, TemplateError, TemplateLimitError
from app.engine.protocol import EngineError, ErrorKind
from app.library.model_kind import BASE_MODEL

BASE_MODEL_NOTICE = BASE_MODEL  # one wording in the engine's notice, the chat's info line and the Models page


def read_template_file(path: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EngineError(ErrorKind.BAD_REQUEST, f"chat template file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EngineError(ErrorKind.BAD_REQUEST, f"cannot read the chat template file {path}: {exc}") from None


def choose_template(
    template_file: str,
    gguf_template: str | None,
    bos_token: str,
    eos_token: str,
    is_control_token: Callable[[str], bool],
) -> tuple[ChatTemplate, str]:
    """(template, notice for the user)."""
    if template_file:
        try:
            source = read_template_file(template_file)
            return ChatTemplate(source, bos_token, eos_token, "file", name=template_file), ""
        except TemplateLimitError as exc:
            raise EngineError(ErrorKind.BAD_REQUEST, str(exc)) from None
        except TemplateError as exc:
            raise EngineError(ErrorKind.BAD_REQUEST, f"{template_file}: {exc}") from None
    notice = ""
    if gguf_template:
        try:
            return ChatTemplate(gguf_template, bos_token, eos_token, "gguf"), ""
        except TemplateLimitError as exc:
            notice = f"the model's chat template was stopped ({exc.reason}); a built-in one is used instead"
        except TemplateError:
            notice = "the model's chat template could not be used; a built-in one is used instead"
    builtin = choose_builtin(is_control_token)
    if builtin is not None:
        name, source = builtin
        return ChatTemplate(source, bos_token, eos_token, f"builtin:{name}"), notice
    if notice:
        return ChatTemplate(CHATML, bos_token, eos_token, "default"), notice
    return ChatTemplate(COMPLETION, bos_token, eos_token, "completion"), BASE_MODEL_NOTICE

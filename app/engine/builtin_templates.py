"""Built-in chat templates for models whose GGUF carries none, chosen by the chat
control tokens their vocabulary has; and the plain-text form for base models."""

from __future__ import annotations

from collections.abc import Callable

CHATML = (
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
GEMMA = (
    "{{ bos_token }}{% for m in messages %}"
    "{% set role = 'model' if m['role'] == 'assistant' else m['role'] %}"
    "{{ '<start_of_turn>' + role + '\n' + m['content'] | trim + '<end_of_turn>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)
GEMMA4 = (
    "{{ bos_token }}{% for m in messages %}"
    "{% set role = 'model' if m['role'] == 'assistant' else m['role'] %}"
    "{{ '<|turn>' + role + '\n' + m['content'] | trim + '<turn|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|turn>model\n' }}{% endif %}"
)
COMMAND_R = (
    "{{ bos_token }}{% for m in messages %}"
    "{% set role = {'system': 'SYSTEM', 'user': 'USER', 'assistant': 'CHATBOT'}[m['role']] %}"
    "{{ '<|START_OF_TURN_TOKEN|><|' + role + '_TOKEN|>' + m['content'] + '<|END_OF_TURN_TOKEN|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>' }}{% endif %}"
)
LLAMA3 = (
    "{{ bos_token }}{% for m in messages %}"
    "{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\n\n' + m['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
MISTRAL = (
    "{{ bos_token }}{% set system = messages[0]['content'] + '\n\n' if messages and messages[0]['role'] == 'system'"
    " else '' %}{% for m in messages if m['role'] != 'system' %}"
    "{% if m['role'] == 'user' %}{{ '[INST] ' + (system if loop.first else '') + m['content'] + ' [/INST]' }}"
    "{% else %}{{ ' ' + m['content'] + eos_token }}{% endif %}{% endfor %}"
)
PHI3 = (
    "{% for m in messages %}{{ '<|' + m['role'] + '|>\n' + m['content'] + '<|end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}{{ '' }}"
)
# A base model continues text: the conversation as plain paragraphs, no markers.
COMPLETION = (
    "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% if not loop.last %}{{ '\n\n' }}{% endif %}"
    "{% endfor %}"
)

# (name, a control token that identifies the family, template), most specific first
BUILTINS: tuple[tuple[str, str, str], ...] = (
    ("gemma", "<start_of_turn>", GEMMA),
    ("gemma4", "<|turn>", GEMMA4),
    ("command-r", "<|START_OF_TURN_TOKEN|>", COMMAND_R),
    ("llama3", "<|start_header_id|>", LLAMA3),
    ("chatml", "<|im_start|>", CHATML),
    ("phi3", "<|user|>", PHI3),
    ("mistral", "[INST]", MISTRAL),
)

# end-of-turn markers a template writes; stop generating when the model emits one
END_MARKERS = (
    "<end_of_turn>", "<turn|>", "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
    "<|END_OF_TURN_TOKEN|>",
)


def choose_builtin(is_control_token: Callable[[str], bool]) -> tuple[str, str] | None:
    """(name, template) for the first family whose marker is a single control token, or None."""
    for name, marker, template in BUILTINS:
        if is_control_token(marker):
            return name, template
    return None

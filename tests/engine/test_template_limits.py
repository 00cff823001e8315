"""Hostile chat templates end quickly, in bounded memory, with an error that names the template."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from app.engine import ChatMessage, Done, Error, LoadOptions, SamplingParams
from app.engine.chat_template import ChatTemplate, TemplateError, TemplateLimitError
from app.engine.protocol import EngineError, ErrorKind
from app.engine.template_choice import choose_template

NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
HOSTILE = {
    "nested loops": NESTED_LOOPS,
    "repeat": "{{ 'x' * 10**10 }}",
    "doubling +": "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "doubling ~": "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "percent width": "{{ '%999999999s' % 'x' }}",
    "format width": "{{ '{:>999999999}'.format('x') }}",
    "format filter": "{{ '%999999999s'|format('x') }}",
    "ljust": "{{ 'x'.ljust(10**10) }}",
    "center": "{{ 'x'.center(999999999) }}",
    "center filter": "{{ 'x'|center(999999999) }}",
    "indent filter": "{{ ('\\n' * 1000000)|indent(1000, true, true) }}",
    "str join": "{{ ('x' * 1000000).join(['a'] * 100000) }}",
    "join filter": "{{ (['x' * 1000000] * 100000)|join }}",
    "replace": "{{ ('x' * 100000).replace('x', 'y' * 100000) }}",
    "expandtabs": "{{ ('\\t' * 1000000).expandtabs(1000) }}",
    "output loop": "{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{{ s }}{% endfor %}",
    "printed list": "{{ [['y' * 100000] * 100000] }}",
    "tojson": "{{ ([['y' * 1000] * 10000] * 1000)|tojson }}",
    "batch fill": "{{ [1]|batch(999999999, 0)|list }}",
    "join separator": "{{ range(100000)|join('x' * 1000) }}",
    "appending loop": "{% set a = [] %}{% for i in range(99999) %}{% for j in range(99999) %}"
                      "{% set _ = a.append(i) %}{% endfor %}{% endfor %}{{ a|length }}",
    "urlize": "{% set s = 'a. ' * 2000000 %}{% for i in range(100) %}{{ s|urlize|length }}{% endfor %}",
    "sorting": "{% set l = range(100000)|list * 2 %}{% for i in range(1000) %}{{ l|sort|length }}{% endfor %}",
    "split": "{{ ('a ' * 4000000).split()|length }}",
    "list repeat": "{{ (range(100000)|list) * 80 }}",
    "nested lists": "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [ns.l] %}"
                    "{% endfor %}{{ ns.l }}",
    "macro recursion": "{% macro m(n) %}{% if n %}{{ m(n-1) }}{{ m(n-1) }}{% endif %}{% endmacro %}{{ m(60) }}",
    "huge power": "{{ 9**(9**9) }}",
    "squaring": "{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
}
DEADLINE = 0.5

# Renders every hostile template in a child process with its address space capped (the
# unbounded renderer would otherwise take gigabytes from the test machine).
CHILD = textwrap.dedent("""
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    from app.engine.chat_template import ChatTemplate
    from app.engine.protocol import ChatMessage
    results = {}
    for name, source in json.loads(sys.argv[1]).items():
        t0 = time.monotonic()
        try:
            ChatTemplate(source, deadline_s=float(sys.argv[2])).render([ChatMessage("user", "hi")])
            results[name] = {"error": None}
        except Exception as exc:
            results[name] = {"error": type(exc).__name__, "message": str(exc)}
        results[name]["seconds"] = time.monotonic() - t0
    try:  # this process's own peak: ru_maxrss may keep the parent's, from before exec
        peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results["max_rss_mb"] = peak // 1024
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def hostile_results() -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(HOSTILE), str(DEADLINE)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_template_is_stopped_quickly_with_a_clear_error(hostile_results, name):
    result = hostile_results[name]
    assert result["error"] == "TemplateLimitError", result
    assert result["seconds"] < DEADLINE + 1.0
    assert result["message"].startswith("the model's own chat template was stopped: it ")
    assert "--chat-template-file" in result["message"] and "\n" not in result["message"]


def test_hostile_templates_stay_within_bounded_memory(hostile_results):
    assert hostile_results["max_rss_mb"] < 400


def test_nested_loops_stop_at_the_deadline():
    template = ChatTemplate("{% if messages|length > 2 %}" + NESTED_LOOPS + "{% endif %}ok", deadline_s=0.3)
    assert template.render([ChatMessage("user", "hi")]) == "ok"  # a short chat renders
    t0 = time.monotonic()
    with pytest.raises(TemplateLimitError, match=r"took longer than 0\.3 s to render"):
        template.render([ChatMessage("user", "hi"), ChatMessage("assistant", "yo"), ChatMessage("user", "?")])
    assert 0.3 <= time.monotonic() - t0 < 1.0


def test_the_size_bound_grows_with_the_conversation():
    template = ChatTemplate("{% for m in messages %}{{ m.content ~ m.content }}{% endfor %}{{ 'y' * 1000000 }}")
    long = "x" * 5_000_000  # twice that is past the 8 Mi bound of a short chat, within 8x the messages
    assert len(template.render([ChatMessage("user", long)])) == 11_000_000


def test_gguf_template_that_overruns_falls_back_to_a_built_in_one_and_says_why():
    template, notice = choose_template("", "{{ 'x' * 10**10 }}", "<s>", "</s>", lambda t: t == "<|im_start|>")
    assert template.origin == "builtin:chatml"
    assert notice.startswith("the model's chat template was stopped (it tried to build a string of 10,000,000,000")
    assert notice.endswith("a built-in one is used instead")


def test_template_file_that_overruns_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "slow.jinja"
    path.write_text("{{ '%999999999s' % 'x' }}", encoding="utf-8")
    with pytest.raises(EngineError) as caught:
        choose_template(str(path), None, "<s>", "</s>", lambda t: False)
    assert caught.value.kind == ErrorKind.BAD_REQUEST
    assert caught.value.message.startswith(f"the chat template file {path} was stopped: it tried to build")
    assert caught.value.message.endswith("choose another template file")


def test_the_engine_process_answers_a_runaway_render_with_an_error(engine, tiny_model, tmp_path):
    path = tmp_path / "late.jinja"  # harmless for the load's probe, endless once a chat has 3 messages
    path.write_text("{% if messages|length > 2 %}" + NESTED_LOOPS + "{% endif %}"
                    "{% for m in messages %}{{ m.content }}{% endfor %}", encoding="utf-8")
    engine.load(LoadOptions(str(tiny_model), n_ctx=256, chat_template_file=str(path)))
    chat = [ChatMessage("user", "a"), ChatMessage("assistant", "b"), ChatMessage("user", "c")]
    t0 = time.monotonic()
    events = list(engine.chat(chat, SamplingParams(temperature=0.0, max_tokens=4)))
    assert time.monotonic() - t0 < 10
    assert isinstance(events[-1], Error) and not any(isinstance(e, Done) for e in events)
    assert "was stopped: it took longer than 2 s to render" in events[-1].message
    assert str(path) in events[-1].message


def test_hearth_prompt_with_a_hostile_template_exits_2_with_one_line(tmp_path, capsys, tiny_model):
    from app.cli import main

    template = tmp_path / "big.jinja"
    template.write_text("{{ 'x'.center(999999999) }}", encoding="utf-8")
    messages = tmp_path / "m.json"
    messages.write_text(json.dumps([{"role": "user", "content": "hi"}]), encoding="utf-8")
    assert main(["prompt", "--model", str(tiny_model), "--messages", str(messages),
                 "--chat-template-file", str(template)]) == 2
    err = capsys.readouterr().err
    assert "was stopped: it tried to build a string of 999,999,999 characters" in err and err.count("\n") == 1


def test_hearth_chat_with_a_runaway_model_template_answers_with_a_built_in_one(model_dir, capsys):
    from app.cli import main
    from tests.support.tiny_gguf import write_tiny_model

    path = write_tiny_model(model_dir / "tiny-runaway-template.gguf", chat_template=NESTED_LOOPS)
    t0 = time.monotonic()
    assert main(["chat", "--model", str(path), "--ctx", "256", "--max-tokens", "2", "--json", "Hi"]) == 0
    assert time.monotonic() - t0 < 30  # it stayed silent for minutes before
    assert json.loads(capsys.readouterr().out)["chat_template"] == "builtin:chatml"


def test_hearth_chat_with_a_runaway_template_file_exits_2_with_one_line(tiny_model, tmp_path, capsys):
    from app.cli import main

    template = tmp_path / "loops.jinja"
    template.write_text(NESTED_LOOPS, encoding="utf-8")
    assert main(["chat", "--model", str(tiny_model), "--ctx", "256", "--chat-template-file", str(template), "Hi"]) == 2
    assert capsys.readouterr().err == (f"hearth: the chat template file {template} was stopped: it took longer "
                                       "than 2 s to render; choose another template file\n")


@pytest.mark.parametrize("source", [
    "{% if 1 %}" * 2000 + "{% endif %}" * 2000,
    "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
    "{% for i in x %}" * 30 + "{% endfor %}" * 30,
])
def test_a_template_nested_too_deeply_is_a_plain_template_error(source):
    with pytest.raises(TemplateError, match=r"^the chat template is not valid Jinja: it is nested too deeply$"):
        ChatTemplate(source)


def test_a_huge_template_is_refused_before_it_is_compiled():
    t0 = time.monotonic()
    with pytest.raises(TemplateLimitError,
                       match=r"was stopped: it is 1,800,000 characters long \(the limit is 262,144\)"):
        ChatTemplate('{{ "a" }}' * 200_000)
    assert time.monotonic() - t0 < 1


def test_a_list_may_be_appended_to_and_popped_as_llama_cpp_allows_but_not_put_inside_itself():
    queue = "{% set ids = [] %}{% for i in range(3) %}{% set _ = ids.append('c' ~ i) %}{% endfor %}" \
            "{% set first = ids.pop(0) %}{{ first }}|{{ ids|join(',') }}"
    assert ChatTemplate(queue, "<s>", "</s>", "file").render([]) == "c0|c1,c2"  # as Kimi K2's templates do
    with pytest.raises(TemplateError, match="plain values"):
        ChatTemplate("{% set a = [] %}{% set _ = a.append(a) %}{{ a }}", "<s>", "</s>", "file").render([])
    with pytest.raises(TemplateError, match="unsafe"):  # other mutations stay refused
        ChatTemplate("{% set d = {} %}{% set _ = d.update({'a': 1}) %}{{ d }}", "<s>", "</s>", "file").render([])

from app.engine.protocol import CountResult
from app.ui.widgets.context_meter import ContextMeter


def test_the_meter_counts_the_prompt_and_the_streamed_reply(qtbot):
    meter = ContextMeter()
    qtbot.addWidget(meter)
    meter.set_count(CountResult(prompt_tokens=500, n_ctx=1000, untrimmed_tokens=500))
    assert meter.numbers.text() == "500 / 1,000 tokens (50%)" and meter.level == "ok"
    meter.add_streamed(350)
    assert meter.used == 850 and meter.level == "near"
    meter.add_streamed(600)
    assert meter.level == "full" and meter.bar.value() == 1000


def test_warnings_say_what_will_be_dropped_or_refused(qtbot):
    meter = ContextMeter()
    qtbot.addWidget(meter)
    meter.set_count(CountResult(prompt_tokens=900, n_ctx=1000, untrimmed_tokens=1400, dropped_messages=3))
    assert "leaves out the 3 oldest messages" in meter.warning.text()
    meter.set_count(CountResult(prompt_tokens=1400, n_ctx=1000, untrimmed_tokens=1400, fits=False))
    assert meter.warning.text().startswith("Too long: 1,400 tokens") and meter.level == "full"
    meter.set_count(CountResult(prompt_tokens=10, n_ctx=1000, untrimmed_tokens=10, chat_template="completion"))
    assert "Base model" in meter.warning.text()


def test_clearing_shows_why_there_is_no_count(qtbot):
    meter = ContextMeter()
    qtbot.addWidget(meter)
    meter.set_count(CountResult(prompt_tokens=5, n_ctx=100, untrimmed_tokens=5))
    meter.clear("Load a model to start chatting")
    assert meter.numbers.text() == "Load a model to start chatting" and meter.used == 0
    meter.add_streamed(10)  # a late token after the clear changes nothing
    assert meter.used == 0

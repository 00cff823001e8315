from PySide6.QtCore import Qt

from app.ui.chat.composer import Composer


def test_enter_sends_the_trimmed_text_and_shift_enter_adds_a_line(qtbot):
    composer = Composer()
    qtbot.addWidget(composer)
    sent: list[str] = []
    composer.send.connect(sent.append)
    qtbot.keyClicks(composer.edit, "first line")
    qtbot.keyClick(composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer.edit, "second  ")
    qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
    assert sent == ["first line\nsecond"] and composer.text() == ""


def test_while_busy_the_next_message_can_be_typed_but_not_sent_and_esc_stops(qtbot):
    composer = Composer()
    qtbot.addWidget(composer)
    composer.show()
    sent: list[str] = []
    composer.send.connect(sent.append)
    composer.set_busy(True)
    assert composer.stop_button.isVisible() and not composer.send_button.isVisible()
    qtbot.keyClicks(composer.edit, "next question")
    qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
    assert sent == [] and composer.text() == "next question"  # kept for when the reply ends
    with qtbot.waitSignal(composer.stop, timeout=1000):
        qtbot.keyClick(composer.edit, Qt.Key.Key_Escape)
    composer.set_busy(False)
    composer.send_button.click()
    assert sent == ["next question"]


def test_blank_messages_are_not_sent_and_drafts_are_reported(qtbot):
    composer = Composer()
    qtbot.addWidget(composer)
    drafts: list[str] = []
    composer.draft_changed.connect(drafts.append)
    composer.send.connect(lambda text: drafts.append("SENT"))
    qtbot.keyClicks(composer.edit, "  ")
    qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
    assert "SENT" not in drafts and drafts[-1] == "  "

from PySide6.QtCore import Qt

from app.ui.chat.message_model import ChatItem, ContentRole, MessageModel, ReasoningRole, RoleRole, StreamingRole


def _chat(model: MessageModel) -> None:
    model.set_items([ChatItem(1, "system", "Be brief."), ChatItem(2, "user", "Capital of France?")])
    model.append(ChatItem(3, "assistant", "", model="SmolLM2", streaming=True))


def test_the_message_model_passes_the_model_tester(qtmodeltester):
    model = MessageModel()
    _chat(model)
    qtmodeltester.check(model)
    model.update(2, content="Paris.", streaming=False, reasoning="The user asks about France.")
    model.remove_from(1)
    qtmodeltester.check(model)


def test_rows_expose_each_field_by_role_and_updates_signal_their_row(qtbot):
    model = MessageModel()
    _chat(model)
    changed: list[int] = []
    model.dataChanged.connect(lambda top, bottom, *_: changed.extend(range(top.row(), bottom.row() + 1)))
    model.update(2, content="Paris.", streaming=False, reasoning="France → Paris")
    index = model.index(2)
    assert (model.data(index, RoleRole), model.data(index, ContentRole)) == ("assistant", "Paris.")
    assert model.data(index, Qt.ItemDataRole.DisplayRole) == "Paris."
    assert model.data(index, StreamingRole) is False
    assert model.data(index, ReasoningRole) == "France → Paris"
    assert changed == [2]
    assert model.data(model.index(7), ContentRole) is None


def test_removing_from_a_row_drops_it_and_everything_after(qtbot):
    model = MessageModel()
    _chat(model)
    model.remove_from(1)
    assert [i.record_id for i in model.items()] == [1]

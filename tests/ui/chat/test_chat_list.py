from app.store import ConversationStore
from app.ui.chat.chat_list import ChatListModel


def test_the_chat_list_passes_the_model_tester_and_follows_the_store(qtmodeltester, tmp_path):
    store = ConversationStore(tmp_path / "chats.db")
    first = store.create_chat("Trip to Paris").id
    second = store.create_chat("Gardening").id
    model = ChatListModel(store)
    model.refresh()
    qtmodeltester.check(model)
    assert {model.chat_at(r).id for r in range(model.rowCount())} == {first, second}
    assert model.chat_at(model.row_of(second)).title == "Gardening"
    model.refresh("paris")
    qtmodeltester.check(model)
    assert [c.id for c in model.chats()] == [first]
    store.delete_chat(first)
    model.refresh("")
    assert [c.id for c in model.chats()] == [second]
    assert model.row_of(first) == -1
    store.close()

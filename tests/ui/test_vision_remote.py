"""A picture sent to a vision model on a remote server: chosen in the picker, the picture pasted, its
bytes sent as an OpenAI image_url content part, and the server's count includes its tokens."""

from __future__ import annotations

from app.engine import EngineClient, LoadOptions
from app.remote_endpoints import Endpoint, EndpointStore
from app.server.background import BackgroundServer
from tests.support.servers import free_port
from tests.support.tiny_vision import IMAGE_TOKENS, png_bytes, write_tiny_vision_pair
from tests.ui.chat.test_chat_page import type_and_send
from tests.ui.conftest import wait_reply
from tests.ui.test_pictures import paste_picture


def test_a_remote_vision_model_is_sent_the_picture(qtbot, window, tmp_path):
    model, projector = write_tiny_vision_pair(tmp_path / "served")
    serving = EngineClient()
    serving.load(LoadOptions(str(model), n_ctx=512, mmproj=str(projector)))
    server = BackgroundServer(serving, "seeing", port=free_port())
    server.start()
    try:
        EndpointStore(use_keyring=False).add(Endpoint("Workstation", server.url.rsplit("/v1", 1)[0]))
        window.model_lists.refresh_remote()
        page = window.chat_page
        picker = page.load_settings.picker
        qtbot.waitUntil(lambda: picker.findText("seeing · Workstation") >= 0, timeout=10000)
        picker.setCurrentIndex(picker.findText("seeing · Workstation"))
        with qtbot.waitSignal(page.model_loaded, timeout=20000):
            page.load_settings.load_button.click()
        paste_picture(page, png_bytes(), qtbot)
        assert page.notice.text() != "This model cannot see images"
        type_and_send(qtbot, page, "What is in this picture?")
        wait_reply(qtbot, page)
        user, reply = page.messages.item(0), page.messages.item(1)
        assert [p.width for p in user.images] == [24]
        assert not reply.error and reply.stats["completion_tokens"] > 0
        with_picture = reply.stats["prompt_tokens"]
        window.new_chat()  # the same question without the picture: the difference is the picture's tokens
        type_and_send(qtbot, page, "What is in this picture?")
        wait_reply(qtbot, page)
        assert with_picture - page.messages.item(1).stats["prompt_tokens"] == IMAGE_TOKENS
    finally:
        server.stop()
        serving.close()

"""Loading reuses what is known: no header read in the engine, progress at once, one model at a time."""

from __future__ import annotations

import pytest

from app.engine import protocol as p
from app.engine.protocol import LoadOptions
from app.engine.worker import Worker
from app.library.gguf_info import read_gguf_info


class Pipe:
    """The worker's end of the pipe, recording what it sends."""

    def __init__(self) -> None:
        self.sent: list[p.Event] = []

    def send(self, event: p.Event) -> None:
        self.sent.append(event)


def test_plain_load_reads_no_header_in_python(tiny_model, monkeypatch):
    from app.engine import runtime

    def refuse(_path):
        raise AssertionError("the header was read")

    monkeypatch.setattr(runtime, "read_gguf_info", refuse)
    model = runtime.LoadedModel(LoadOptions(str(tiny_model), n_ctx=256, n_gpu_layers=-1))
    try:
        header = read_gguf_info(tiny_model)
        assert model.info.name == header.display_name
        assert model.info.architecture == header.architecture
        assert model.info.size_bytes == header.size_bytes
        assert model.info.chat_template == "gguf"
    finally:
        model.close()


def test_load_uses_the_header_it_is_given(tiny_model, monkeypatch):
    from app.engine import runtime

    known = read_gguf_info(tiny_model)
    monkeypatch.setattr(runtime, "read_gguf_info", lambda _path: pytest.fail("the header was read again"))
    model = runtime.LoadedModel(LoadOptions(str(tiny_model), n_ctx=256), gguf=known)
    try:
        assert model.info.name == known.display_name
        assert model.header() is known
    finally:
        model.close()


def test_failed_load_still_explains_a_truncated_file(broken_models):
    from app.engine.protocol import EngineError, ErrorKind
    from app.engine.runtime import LoadedModel

    with pytest.raises(EngineError) as caught:
        LoadedModel(LoadOptions(str(broken_models["truncated"]), n_ctx=256))
    assert caught.value.kind == ErrorKind.TRUNCATED


def test_worker_answers_a_load_with_progress_before_anything_else(monkeypatch):
    pipe = Pipe()
    worker = Worker(pipe)  # type: ignore[arg-type]
    requests = iter([p.Load(7, LoadOptions("/nowhere/model.gguf"))])

    def recv():
        try:
            return next(requests)
        except StopIteration:
            raise EOFError from None

    pipe.recv = recv  # type: ignore[attr-defined]
    worker.read_requests()
    assert pipe.sent == [p.Progress(7, 0.0)]
    assert isinstance(worker.requests.get_nowait(), p.Load)


def test_switching_models_frees_the_first_before_loading_the_second(monkeypatch):
    import app.engine.offload as offload

    resident: list[str] = []
    most = [0]

    class FakeModel:
        def __init__(self, options, on_progress=None, gguf=None) -> None:
            most[0] = max(most[0], len(resident) + 1)  # what would be resident while this one loads
            resident.append(options.path)
            self.path = options.path
            self.info = p.ModelInfo(options.path, "fake", "llama", 1, 1, 256, 256, 1, 0, 10, "gguf", None, 0.0)

        def close(self) -> None:
            resident.remove(self.path)

    monkeypatch.setattr(offload, "load_model", lambda loader, options, progress, gguf=None: FakeModel(options))
    pipe = Pipe()
    worker = Worker(pipe)  # type: ignore[arg-type]
    worker.load(p.Load(1, LoadOptions("a.gguf")))
    worker.load(p.Load(2, LoadOptions("b.gguf")))
    assert resident == ["b.gguf"]
    assert most[0] == 1
    assert [type(e) for e in pipe.sent] == [p.Loaded, p.Loaded]


def test_client_reports_progress_at_once_when_the_engine_must_start(tiny_model, engine):
    seen: list[float] = []
    engine.load(LoadOptions(str(tiny_model), n_ctx=256), seen.append, gguf=read_gguf_info(tiny_model))
    assert seen[0] == 0.0 and seen[-1] == 1.0


def test_a_header_read_past_its_deadline_fails_the_load_plainly(broken_models, monkeypatch):
    from app.engine.protocol import EngineError, ErrorKind
    from app.engine.runtime import LoadedModel
    from app.library import gguf_info

    monkeypatch.setattr(gguf_info, "HEADER_TIME_LIMIT", -1.0)  # every header read is already late
    with pytest.raises(EngineError) as caught:
        LoadedModel(LoadOptions(str(broken_models["truncated"]), n_ctx=256))  # llama.cpp fails; the header explains
    assert caught.value.kind == ErrorKind.LOAD_FAILED and "took too long" in caught.value.message

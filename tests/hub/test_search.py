"""Search, file listing and model cards against the local Hub server."""

import pytest

from app.hub.errors import HubError
from app.hub.quant import quant_of
from app.hub.search import list_gguf_files, read_model_card, search_models
from tests.hub.conftest import REPO


def test_search_sorts_by_downloads_likes_and_recency(fake_hub):
    by_downloads = [r.repo_id for r in search_models("chat")]
    assert by_downloads == ["other-org/Popular-Chat-GGUF", REPO, "other-org/Liked-Chat-GGUF"]
    assert next(r.repo_id for r in search_models("chat", sort="likes")) == "other-org/Liked-Chat-GGUF"
    assert next(r.repo_id for r in search_models("chat", sort="recent")) == "other-org/Liked-Chat-GGUF"
    top = search_models("tiny")[0]
    assert top.repo_id == REPO and top.downloads == 500 and top.likes == 3
    assert top.last_modified.year == 2026
    sent = [r.path for r in fake_hub.requests if r.path.startswith("/api/models?")]
    assert any("filter=gguf" in p and "search=tiny" in p for p in sent)


def test_files_are_grouped_by_quant_with_split_parts_together(fake_hub):
    choices = list_gguf_files(REPO)
    quants = [c.quant for c in choices]
    assert quants == ["Q4_K_M", "Q4_K_M", "Q8_0", "F16"]  # ordered small to large quant, split included
    split = next(c for c in choices if len(c.parts) > 1)
    assert split.first_path.startswith("split/") and "-00001-of-" in split.first_path
    assert split.size == sum(p.size for p in split.parts)
    single = next(c for c in choices if c.name == "tiny-chat.Q8_0.gguf")
    assert single.parts[0].sha256 == fake_hub.sha256(REPO, "tiny-chat.Q8_0.gguf")
    assert all("mmproj" not in c.name for c in choices)


def test_model_card_is_readable(fake_hub):
    assert read_model_card(REPO).startswith("# Tiny Chat")


@pytest.mark.parametrize(
    "status, kind, words",
    [(401, "auth", "token"), (403, "gated", "licence"), (404, "not_found", "not found")],
)
def test_hub_errors_become_plain_messages(fake_hub, status, kind, words):
    fake_hub.fail(status, times=5)
    with pytest.raises(HubError) as caught:
        list_gguf_files(REPO)
    assert caught.value.kind == kind and words in caught.value.message


def test_rate_limit_is_retried_with_backoff(fake_hub):
    fake_hub.fail(429, times=1, path_contains="/api/models", retry_after=0)
    assert search_models("tiny")[0].repo_id == REPO
    assert sum(r.path.startswith("/api/models?") for r in fake_hub.requests) == 2


def test_no_network_and_offline_are_explained(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(HubError) as caught:
        search_models("tiny")
    assert caught.value.kind == "network" and "internet" in caught.value.message
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubError) as caught:
        search_models("tiny")
    assert caught.value.kind == "offline"


@pytest.mark.parametrize(
    "name, quant",
    [("Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Q4_K_M"), ("model.IQ3_XXS.gguf", "IQ3_XXS"),
     ("qwen2.5-7b-instruct-fp16.gguf", "F16"), ("x-BF16-00001-of-00002.gguf", "BF16"), ("plain.gguf", "unknown"),
     ("m-Q8_0.gguf", "Q8_0"), ("m.IQ4_NL.gguf", "IQ4_NL")],
)
def test_quant_is_read_from_file_names(name, quant):
    assert quant_of(name) == quant


def test_front_matter_is_taken_off_a_model_card_and_other_cards_are_kept_as_they_are():
    from app.hub.search import strip_front_matter

    assert strip_front_matter("---\nlicense: mit\n---\n\n# Title\n\nText\n") == "# Title\n\nText\n"
    assert strip_front_matter("\ufeff---\nlicense: mit\n...\n# Title\n") == "# Title\n"
    assert strip_front_matter("# Title\n\n---\n\nafter a rule\n") == "# Title\n\n---\n\nafter a rule\n"
    assert strip_front_matter("---\nnever closed\n") == "---\nnever closed\n"
    assert strip_front_matter("") == ""

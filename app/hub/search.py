"""Find GGUF repositories on the Hub and list the models they offer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.hub.errors import HubError, HubErrorKind, hub_endpoint, is_offline, translate
from app.hub.quant import GGUFChoice, HubFile, group_gguf_files

SORTS = {"downloads": "downloads", "likes": "likes", "recent": "last_modified"}


@dataclass(frozen=True)
class RepoSummary:
    repo_id: str
    downloads: int
    likes: int
    last_modified: datetime | None
    gated: bool

    @property
    def publisher(self) -> str:
        return self.repo_id.split("/", 1)[0]


def _api():
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub_endpoint())


def _with_retries(call, what: str):
    """Run a Hub call and explain any failure.

    huggingface_hub itself retries 429 and 5xx answers with exponential backoff
    (up to 5 times), so only the final outcome reaches us.
    """
    if is_offline():
        raise HubError(HubErrorKind.OFFLINE, "Hearth is offline (HF_HUB_OFFLINE is set): the Hub cannot be searched.")
    check_reachable(what)
    try:
        return call()
    except Exception as exc:  # translated into a readable HubError
        raise translate(exc, what) from exc


def check_reachable(what: str, timeout: float = 5.0) -> None:
    """Fail fast when the Hub cannot be reached at all.

    huggingface_hub retries connection errors for about 20 seconds before giving
    up; a person waiting on a search deserves to hear "no network" at once.
    """
    from huggingface_hub.utils import get_session

    try:
        get_session().head(hub_endpoint(), timeout=timeout)
    except Exception as exc:
        raise HubError(HubErrorKind.NETWORK, f"{what}: cannot reach the Hub ({type(exc).__name__}). "
                                  "Check your internet connection.") from exc


def search_models(query: str, sort: str = "downloads", limit: int = 30) -> list[RepoSummary]:
    """GGUF repositories matching `query`, sorted by downloads, likes or recency."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")

    def call():
        models = _api().list_models(search=query or None, filter="gguf", sort=SORTS[sort], limit=limit,
                                    expand=["downloads", "likes", "lastModified", "gated"])
        return [
            RepoSummary(m.id, m.downloads or 0, m.likes or 0, m.last_modified, bool(m.gated))
            for m in models
        ]

    return _with_retries(call, f"search for “{query}”")


def list_gguf_files(repo_id: str, revision: str = "main") -> list[GGUFChoice]:
    """The repository's GGUF models with sizes and SHA-256, split files grouped."""

    def call():
        from huggingface_hub.hf_api import RepoFile

        items = _api().list_repo_tree(repo_id, recursive=True, revision=revision)
        files = []
        for item in items:
            if isinstance(item, RepoFile):
                sha = item.lfs.sha256 if item.lfs else ""
                files.append(HubFile(item.path, int(item.size or 0), sha or ""))
        return files

    files = _with_retries(call, f"files of {repo_id}")
    return group_gguf_files(files)


def read_model_card(repo_id: str, revision: str = "main") -> str:
    """The repository's README (model card) as Markdown; empty if it has none."""
    from huggingface_hub import hf_hub_download

    def call():
        try:
            path = hf_hub_download(repo_id, "README.md", revision=revision, endpoint=hub_endpoint())
        except Exception as exc:
            if "EntryNotFound" in type(exc).__name__:
                return ""
            raise
        with open(path, encoding="utf-8", errors="replace") as handle:
            return strip_front_matter(handle.read())

    return _with_retries(call, f"model card of {repo_id}")


def strip_front_matter(card: str) -> str:
    """A model card without its YAML front matter (`---` … `---`: licence, tags, widget settings), which
    Markdown would show as a heading."""
    lines = card.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return card
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return "".join(lines[index + 1:]).lstrip("\n")
    return card  # never closed: not front matter after all

"""The Hub token: kept where huggingface_hub keeps its active token, never logged.

huggingface_hub reads the active token from `HF_HOME/token` (constants.HF_TOKEN_PATH),
so every download and search uses it without Hearth holding it anywhere else.
We validate with HfApi(endpoint=...).whoami rather than login(), whose own check
is bound to the endpoint read when huggingface_hub was first imported.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.hub.errors import HubError, HubErrorKind, hub_endpoint, translate


def _token_path() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_TOKEN_PATH)


def save_token(token: str) -> str:
    """Check the token with the Hub and store it; returns the account name."""
    from huggingface_hub import HfApi

    token = token.strip()
    if not token:
        raise HubError(HubErrorKind.AUTH, "the token is empty")
    if token.startswith("api_org"):
        raise HubError(HubErrorKind.AUTH, "use a personal access token, not an organisation token")
    try:
        name = HfApi(endpoint=hub_endpoint()).whoami(token)["name"]
    except Exception as exc:  # noqa: BLE001 - explained; the token is never part of the message
        error = translate(exc, "checking the token")
        if error.kind == HubErrorKind.AUTH:
            error = HubError(HubErrorKind.AUTH, "the Hub did not accept this token: check that it was copied whole "
                                     "and has not been revoked")
        raise error from None
    path = _token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    os.replace(tmp, path)
    return name


def forget_token() -> None:
    _token_path().unlink(missing_ok=True)

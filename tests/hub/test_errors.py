from typing import ClassVar

import pytest

from app.hub.errors import HubError, HubErrorKind, error_for_status, translate


@pytest.mark.parametrize("status,kind,words", [
    (401, HubErrorKind.AUTH, "token"),
    (403, HubErrorKind.GATED, "gated"),
    (404, HubErrorKind.NOT_FOUND, "not found"),
    (429, HubErrorKind.RATE_LIMITED, "rate-limiting"),
    (503, HubErrorKind.SERVER, "server error (503)"),
    (418, HubErrorKind.SERVER, "unexpected answer"),
])
def test_each_http_status_gets_a_kind_and_a_message_a_person_can_act_on(status, kind, words):
    error = error_for_status(status, "search", retry_after=7.0)
    assert error.kind is kind
    assert error.message.startswith("search: ") and words in error.message


def test_a_rate_limit_keeps_the_servers_retry_after():
    assert error_for_status(429, "files", retry_after=12.0).retry_after == 12.0


class _Response:
    status_code = 429
    headers: ClassVar[dict[str, str]] = {"Retry-After": "soon"}


class _HTTPError(Exception):
    response = _Response()


class OfflineModeIsEnabled(Exception):
    pass


def test_library_exceptions_are_translated_by_status_or_by_name():
    limited = translate(_HTTPError(), "search")
    assert limited.kind is HubErrorKind.RATE_LIMITED and limited.retry_after == 0.0  # a date is not a number
    assert translate(OfflineModeIsEnabled(), "search").kind is HubErrorKind.OFFLINE
    dropped = translate(ConnectionResetError(), "search")
    assert dropped.kind is HubErrorKind.NETWORK and "ConnectionResetError" in dropped.message
    same = HubError(HubErrorKind.DISK, "full")
    assert translate(same, "x") is same

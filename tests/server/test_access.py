"""Who may use the API server: Host names on a loopback bind, web origins, the API key."""

from __future__ import annotations

import pytest

from app.server.access import AccessPolicy, key_matches, normalize_origin, parse_allowed_origins

LOOPBACK = AccessPolicy("127.0.0.1")


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:8080", "app.localhost:8080", "127.0.0.1", "127.0.0.1:1234",
                                  "127.5.6.7:80", "[::1]:8080", "[::ffff:127.0.0.1]:8080", None, ""])
def test_a_loopback_server_answers_loopback_names_and_addresses(host):
    assert LOOPBACK.host_allowed(host)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "localhost.evil.example", "192.168.1.5:8080",
                                  "0.0.0.0:8080", "[2001:db8::1]:8080", "127.0.0.1.nip.io"])
def test_a_loopback_server_refuses_other_hosts(host):
    assert not LOOPBACK.host_allowed(host)


def test_a_lan_bind_checks_no_host_and_the_bound_address_is_always_allowed():
    assert AccessPolicy("0.0.0.0").host_allowed("evil.example")  # the key a LAN bind needs keeps pages out
    assert AccessPolicy("localhost").host_allowed("127.0.0.1:9")


def test_only_the_servers_own_loopback_origins_are_allowed_by_default():
    assert LOOPBACK.origin_allowed("http://127.0.0.1:8080", 8080)
    assert LOOPBACK.origin_allowed("http://localhost:8080", 8080)
    assert LOOPBACK.origin_allowed("http://[::1]:8080", 8080)
    assert not LOOPBACK.origin_allowed("http://localhost:3000", 8080)  # another local program's page
    assert not LOOPBACK.origin_allowed("https://evil.example", 8080)
    assert not LOOPBACK.origin_allowed("null", 8080)
    assert not LOOPBACK.origin_allowed("not an origin", 8080)


def test_allowed_origins_are_compared_as_browsers_send_them():
    policy = AccessPolicy("127.0.0.1", parse_allowed_origins(["HTTPS://App.Example:443/", "http://localhost:3000"]))
    assert policy.origin_allowed("https://app.example", 8080)
    assert policy.origin_allowed("http://localhost:3000", 8080)
    assert not policy.origin_allowed("https://app.example:8443", 8080)
    assert not policy.origin_allowed("http://app.example", 8080)
    assert AccessPolicy("127.0.0.1", parse_allowed_origins(["*"])).origin_allowed("https://any.example", 8080)


@pytest.mark.parametrize("value", ["example.com", "https://example.com/path", "https://user@example.com", "https://"])
def test_a_bad_allowed_origin_is_named_in_a_plain_message(value):
    with pytest.raises(ValueError, match="is not a web origin"):
        parse_allowed_origins([value])


def test_normalized_origins():
    assert normalize_origin("http://Localhost:80") == "http://localhost"
    assert normalize_origin("tauri://localhost") == "tauri://localhost"
    assert normalize_origin("http://[::1]:8080") == "http://[::1]:8080"


@pytest.mark.parametrize("header", ["Bearer sesame", "bearer sesame", "BEARER sesame", "  Bearer   sesame "])
def test_the_bearer_scheme_is_accepted_in_any_letter_case(header):
    assert key_matches(header, "sesame")


@pytest.mark.parametrize("header", [None, "", "sesame", "Basic sesame", "Bearer sesam", "Bearer sesame2", "Bearer"])
def test_anything_else_is_not_the_key(header):
    assert not key_matches(header, "sesame")

"""Web pages must not drive the local API: DNS rebinding, cross-site simple POSTs and HTML forms are
refused before any work (issue 29, item 1); allowed origins get CORS answers, nothing else does."""

from __future__ import annotations

import httpx

from app.server.access import AccessPolicy, parse_allowed_origins
from app.server.app import create_app
from tests.server.test_safety import NoEngine
from tests.support.servers import uvicorn_thread

BODY = '{"messages":[{"role":"user","content":"hi"}],"max_tokens":10000000}'
EVIL = "https://evil.example"


def test_a_dns_rebinding_host_is_refused():
    with uvicorn_thread(create_app(NoEngine(), "m")) as url:
        port = url.rsplit(":", 1)[1]
        rebound = httpx.get(url + "/v1/models", headers={"Host": "evil.example"})
        assert rebound.status_code == 403
        assert rebound.json()["error"]["code"] == "forbidden_host"
        assert "evil.example" in rebound.json()["error"]["message"]
        assert httpx.post(url + "/v1/chat/completions", content=BODY, headers={
            "Host": f"evil.example:{port}", "Content-Type": "application/json"}).status_code == 403
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost", f"app.localhost:{port}"):
            assert httpx.get(url + "/v1/models", headers={"Host": host}).json()["data"][0]["id"] == "m"


def test_cross_site_simple_posts_and_html_forms_never_reach_the_engine():
    # NoEngine fails any request that reaches it (a 500): each of these must be refused before.
    with uvicorn_thread(create_app(NoEngine(), "m")) as url:
        chat = url + "/v1/chat/completions"
        foreign = httpx.post(chat, content=BODY, headers={"Origin": EVIL, "Content-Type": "text/plain"})
        assert foreign.status_code == 403
        assert foreign.json()["error"]["code"] == "forbidden_origin"
        assert "--allow-origin" in foreign.json()["error"]["message"]
        assert "access-control-allow-origin" not in foreign.headers
        form = httpx.post(chat, data={"messages": "x"}, headers={"Origin": EVIL})
        assert form.status_code == 403
        # Without an Origin (a page can omit it with some requests) the body type still refuses them.
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            refused = httpx.post(chat, content=BODY, headers={"Content-Type": content_type})
            assert refused.status_code == 415, content_type
            assert "application/json" in refused.json()["error"]["message"]
        untyped = httpx.post(chat, content=BODY, headers={"Content-Type": ""})
        assert untyped.status_code == 415
        preflight = httpx.options(chat, headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers


def test_an_allowed_origin_gets_cors_answers_and_no_origin_gets_no_grant():
    page = "http://localhost:3000"
    access = AccessPolicy("127.0.0.1", parse_allowed_origins([page]))
    with uvicorn_thread(create_app(NoEngine(), "m", access=access)) as url:
        preflight = httpx.options(url + "/v1/chat/completions", headers={
            "Origin": page, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == page
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert preflight.headers["access-control-allow-headers"] == "authorization, content-type"
        listed = httpx.get(url + "/v1/models", headers={"Origin": page})
        assert listed.status_code == 200 and listed.headers["access-control-allow-origin"] == page
        assert "Origin" in listed.headers["vary"]
        plain = httpx.get(url + "/v1/models")
        assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers
        assert httpx.get(url + "/v1/models", headers={"Origin": "http://localhost:3001"}).status_code == 403
        as_text = httpx.post(url + "/v1/chat/completions", content=BODY, headers={
            "Origin": page, "Content-Type": "text/plain"})
        assert as_text.status_code == 415 and as_text.headers["access-control-allow-origin"] == page
        own = url.replace("127.0.0.1", "localhost")  # the server's own address is always allowed
        assert httpx.get(url + "/v1/models", headers={"Origin": own}).status_code == 200


def test_the_api_key_is_accepted_with_bearer_in_lower_case():
    with uvicorn_thread(create_app(NoEngine(), "m", api_key="sesame")) as url:
        for scheme in ("bearer", "BEARER", "Bearer"):
            answer = httpx.get(url + "/v1/models", headers={"Authorization": f"{scheme} sesame"})
            assert answer.status_code == 200, scheme
        assert httpx.get(url + "/v1/models", headers={"Authorization": "bearer wrong"}).status_code == 401

"""Each API request is one line of Hearth's log: method, path, status, time; never what was asked or answered."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from app import logs
from app.engine import LoadOptions
from app.server.app import create_app

QUESTION = "what is the password to the garden shed"


@pytest.fixture
def log_file():
    path = logs.setup()
    yield path
    logs.stop()


def test_requests_are_logged_with_status_and_time_but_no_body(log_file, engine, scripted_model):
    engine.load(LoadOptions(path=str(scripted_model), n_ctx=512))
    client = TestClient(create_app(engine, "scripted"), base_url="http://localhost")  # an allowed Host
    reply = client.post("/v1/chat/completions?user=someone",
                        json={"messages": [{"role": "user", "content": QUESTION}], "temperature": 0})
    assert reply.status_code == 200 and "Hello world" in reply.text
    assert client.post("/v1/chat/completions", content=b"{not json",
                       headers={"Content-Type": "application/json"}).status_code == 400
    assert client.get("/v1/nowhere").status_code == 404
    lines = [line for line in log_file.read_text().splitlines() if "app.server.requests" in line]
    assert len(lines) == 3
    assert re.search(r"POST /v1/chat/completions 200 \d+\.\d{3} s$", lines[0])
    assert re.search(r"POST /v1/chat/completions 400 \d+\.\d{3} s$", lines[1])
    assert re.search(r"GET /v1/nowhere 404 \d+\.\d{3} s$", lines[2])
    text = log_file.read_text()
    assert "garden shed" not in text and "Hello world" not in text and "someone" not in text

"""The server-rendered pages as a person with a browser sees them: logging in through the form, the
session cookie, the page's visible text and its menu."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from govdata.demo import DEMO_PASSWORD
from tests.support.http import ADMIN_PASSWORD

HTML = {"accept": "text/html,application/xhtml+xml"}


def web_login(client, username: str, password: str | None = None, **form):
    """Post the login form (the answer, not followed)."""
    password = password or (ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD)
    return client.post(
        "/login",
        data={"username": username, "password": password, **form},
        headers=HTML,
        follow_redirects=False,
    )


def browser(app, username: str) -> TestClient:
    """A client logged in through the /login form, holding the session cookie."""
    client = TestClient(app, raise_server_exceptions=False)
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    assert client.cookies.get("govdata_session")
    return client


def text(html: str) -> str:
    """The page's visible text, roughly: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def nav_labels(html: str) -> list[str]:
    """The entries of the page's side menu."""
    nav = re.search(r'<nav class="sidenav".*?</nav>', html, re.S)
    return re.findall(r">([^<>]+)</a>", nav.group(0)) if nav else []

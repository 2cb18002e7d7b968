"""A person at a browser, for the local authorization server's development login and consent pages
(oidc-provider's devInteractions): httpx follows the authorization request, fills in and submits each form
the server renders, and stops at the redirect to the client's ``redirect_uri`` — no browser needed.

Also the pieces the SDK's OAuth client needs from its host application: an in-memory token store, and the
redirect/callback handlers that hand the authorization URL to the person and the code back to the SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from mcp.client.auth import TokenStorage
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthToken

MAX_HOPS = 20


class _Forms(HTMLParser):
    """Each ``<form>``'s action and its named inputs (name → value)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((found.get("action", ""), {}))
        elif tag == "input" and self.forms and found.get("name"):
            self.forms[-1][1][found["name"]] = found.get("value", "")


@dataclass
class Person:
    """Signs in as ``login`` and approves whatever the client asks (the dev pages accept any password)."""

    login: str = "alice@example.com"
    timeout: float = 15.0
    visited: list[str] = field(default_factory=list)  # every URL the browser loaded
    forms: list[str] = field(default_factory=list)  # the prompt of each form submitted: login, consent

    def __post_init__(self) -> None:
        self.browser = httpx.Client(timeout=self.timeout, follow_redirects=False)  # keeps the session cookie

    def authorize(self, url: str, redirect_uri: str, *, deliver: bool = False) -> str:
        """Follow ``url`` through the login and consent pages; the URL it redirects to at ``redirect_uri``.

        ``deliver=True`` also loads that URL (when a real callback server listens there)."""
        response = self._get(url)
        for _ in range(MAX_HOPS):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if target.startswith(redirect_uri):
                    if deliver:
                        self._get(target)
                    return target
                response = self._get(target)
                continue
            assert response.status_code == 200, (
                f"{response.url}: {response.status_code} {response.text[:500]}"
            )
            response = self._submit(response)
        raise AssertionError(f"no redirect to {redirect_uri} after {MAX_HOPS} steps: {self.visited}")

    def close(self) -> None:
        self.browser.close()

    def _get(self, url: str) -> httpx.Response:
        self.visited.append(url)
        return self.browser.get(url)

    def _submit(self, page: httpx.Response) -> httpx.Response:
        parser = _Forms()
        parser.feed(page.text)
        forms = [(action, fields) for action, fields in parser.forms if "prompt" in fields]
        assert forms, f"{page.url}: no login or consent form in {page.text[:500]}"
        action, fields = forms[0]
        if fields["prompt"] == "login":
            fields.update(login=self.login, password="any password")  # the dev pages accept any
        self.forms.append(fields["prompt"])
        target = urljoin(str(page.url), action)
        self.visited.append(target)
        return self.browser.post(target, data=fields)


def register(registration_endpoint: str, redirect_uri: str, **metadata: Any) -> dict[str, Any]:
    """Dynamic client registration (RFC 7591) of a public client: its registered metadata."""
    body = {
        "client_name": "lambda-ops-mcp tests",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    response = httpx.post(registration_endpoint, json=body, timeout=10)
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


def code_from(redirected_to: str) -> AuthorizationCodeResult:
    query = parse_qs(urlsplit(redirected_to).query)
    assert "error" not in query, f"the authorization server refused: {query}"
    return AuthorizationCodeResult(
        code=query["code"][0], state=query.get("state", [None])[0], iss=query.get("iss", [None])[0]
    )


@dataclass
class SignIn:
    """The SDK's redirect and callback handlers, with ``person`` at the browser; remembers each
    authorization URL the SDK built (to check PKCE, ``resource`` and ``scope``)."""

    person: Person
    redirect_uri: str
    authorization_urls: list[str] = field(default_factory=list)
    _pending: str | None = None

    async def redirect(self, authorization_url: str) -> None:
        self.authorization_urls.append(authorization_url)
        self._pending = authorization_url

    async def callback(self) -> AuthorizationCodeResult:
        assert self._pending is not None
        url, self._pending = self._pending, None
        return code_from(self.person.authorize(url, self.redirect_uri))

    def parameters(self, index: int = -1) -> dict[str, str]:
        return {
            key: values[0] for key, values in parse_qs(urlsplit(self.authorization_urls[index]).query).items()
        }


class MemoryTokens(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info

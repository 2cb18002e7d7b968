"""A bounded JSON GET for the authorization server's documents (metadata, JWKS): one deadline for the whole
fetch (httpx's timeout bounds each read, so a server trickling bytes would hold a request far longer), no
redirects, no proxy from the environment, a size cap. Every failure is one exception type."""

from __future__ import annotations

import asyncio
import json

import httpx2

MAX_DOCUMENT_BYTES = 256 * 1024


class FetchError(Exception):
    """The document could not be fetched or is not a JSON object (the message says which, no secrets)."""


async def get_json(url: str, timeout_s: float) -> dict[str, object]:
    try:
        async with (
            asyncio.timeout(timeout_s),
            httpx2.AsyncClient(timeout=timeout_s, follow_redirects=False, trust_env=False) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise FetchError(f"{url} answered HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise FetchError(f"{url} sent more than {MAX_DOCUMENT_BYTES} bytes")
    except TimeoutError as error:
        raise FetchError(f"{url} did not answer within {timeout_s:g} s") from error
    except httpx2.HTTPError as error:
        raise FetchError(f"{url} unreachable ({type(error).__name__})") from error
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise FetchError(f"{url} did not send JSON") from error
    if not isinstance(document, dict):
        raise FetchError(f"{url} did not send a JSON object")
    return document

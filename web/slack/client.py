"""A small Slack Web API client: JSON POSTs with the bot token, typed errors, rate limits honoured.

Every method is ``await client.call("chat.postMessage", {...})``; the reply's JSON comes back when
Slack says ``ok: true``. Anything else raises :class:`SlackApiError` whose ``error`` is Slack's own code
(``channel_not_found``, ``unknown_method``, ``not_allowed``, ...) or, for transport problems, one of
``unreachable``, ``timeout``, ``http_<status>``, ``bad_response``, ``ratelimited``. A 429 is retried after
the ``Retry-After`` seconds Slack asks for (a few times, each wait capped).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported where a client is made: httpx brings its command-line tool's rich and pygments (~5 MB
    # resident) with it, and a server without a Slack bot never makes one.
    import httpx

log = logging.getLogger(__name__)


class SlackApiError(RuntimeError):
    """A Web API call that did not succeed; ``error`` is the machine code, ``method`` the API method."""

    def __init__(self, method: str, error: str, detail: str = "", response: dict[str, Any] | None = None):
        super().__init__(f"Slack {method} failed: {error}{f' ({detail})' if detail else ''}")
        self.method = method
        self.error = error
        self.response = response or {}


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


class SlackClient:
    """``httpx.AsyncClient`` bound to a bot token and an API base (``https://slack.com/api``)."""

    def __init__(
        self,
        token: str,
        api_base: str = "https://slack.com/api",
        *,
        timeout_s: float = 10.0,
        max_rate_limit_retries: int = 3,
        max_retry_after_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.max_rate_limit_retries = max_rate_limit_retries
        self.max_retry_after_s = max_retry_after_s
        import httpx

        self._http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` as JSON to ``{api_base}/{method}``; the reply when ``ok``, else SlackApiError."""
        import httpx

        url = f"{self.api_base}/{method}"
        body = {k: v for k, v in payload.items() if v is not None}
        attempt = 0
        while True:
            try:
                response = await self._http.post(url, json=body)
            except httpx.TimeoutException as err:
                raise SlackApiError(method, "timeout", str(err) or type(err).__name__) from err
            except httpx.TransportError as err:
                raise SlackApiError(method, "unreachable", str(err) or type(err).__name__) from err
            if response.status_code == 429:
                wait = _retry_after(response)
                if attempt >= self.max_rate_limit_retries or wait > self.max_retry_after_s:
                    raise SlackApiError(method, "ratelimited", f"Retry-After {wait:g}s")
                attempt += 1
                log.warning("Slack %s rate-limited; retrying in %gs (attempt %d)", method, wait, attempt)
                await asyncio.sleep(wait)
                continue
            if response.status_code >= 400:
                raise SlackApiError(method, f"http_{response.status_code}", response.text[:200])
            try:
                data = response.json()
            except ValueError:
                raise SlackApiError(method, "bad_response", "the reply is not JSON") from None
            if not isinstance(data, dict):
                raise SlackApiError(method, "bad_response", "the reply is not a JSON object")
            if not data.get("ok"):
                raise SlackApiError(method, str(data.get("error") or "unknown_error"), response=data)
            for warning in str(data.get("warning") or "").split(","):
                if warning:
                    log.info("Slack %s warned: %s", method, warning)
            return data

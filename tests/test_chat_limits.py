"""The per-client token bucket and the limit checks, without a server (the HTTP side is in test_chat_api)."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from vibeshelf.web.limits import RateLimiter, check_history, check_message, check_turns


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(6, clock=clock)  # one token every 10 s
    assert [limiter.acquire("a") for _ in range(6)] == [None] * 6
    wait = limiter.acquire("a")
    assert wait == pytest.approx(10.0)
    assert limiter.acquire("b") is None  # clients have their own buckets
    clock.now += 4
    assert limiter.acquire("a") == pytest.approx(6.0)
    clock.now += 6
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") == pytest.approx(10.0)


def test_429_names_the_limit_and_rounds_retry_after_up() -> None:
    clock = Clock()
    limiter = RateLimiter(1, clock=clock)
    limiter.check("1.2.3.4")
    clock.now += 0.5
    with pytest.raises(HTTPException) as err:
        limiter.check("1.2.3.4")
    assert err.value.status_code == 429
    assert err.value.headers == {"Retry-After": "60"}  # 59.5 s rounded up
    assert err.value.detail["error"]["code"] == "rate_limited"


def test_zero_turns_the_limit_off() -> None:
    limiter = RateLimiter(0)
    assert all(limiter.acquire("a") is None for _ in range(1000))


def test_checks_name_the_field() -> None:
    with pytest.raises(HTTPException) as err:
        check_message("x" * 11, 10, "messages.3.content")
    assert err.value.status_code == 422
    assert err.value.detail["error"]["fields"][0]["field"] == "messages.3.content"
    check_message("x" * 10, 10)
    with pytest.raises(HTTPException) as err:
        check_history(7, 6)
    assert err.value.detail["error"]["code"] == "history_too_long"
    check_turns(2, 3)
    with pytest.raises(HTTPException) as err:
        check_turns(3, 3)
    assert err.value.status_code == 409 and err.value.detail["error"]["fields"][0]["field"] == "session_id"

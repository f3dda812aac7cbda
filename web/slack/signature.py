"""Slack's request signature (v0): HMAC-SHA256 of ``v0:{timestamp}:{raw body}`` keyed by the signing secret.

Slack signs every request it sends to the app; verifying it (before the body is even parsed) is how
``/slack/events`` knows a request came from Slack, which is why ``/slack/`` needs no API key. A request
whose timestamp is more than five minutes from now is refused too, so a captured request cannot be
replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
VERSION = "v0"
# Slack's own recommendation: refuse requests signed more than five minutes ago (or ahead).
MAX_SKEW_S = 300


class SlackSignatureError(ValueError):
    """The request is not provably from Slack; the message says why (never echoes the secret)."""


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """The ``X-Slack-Signature`` value Slack would send for this timestamp and raw body."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def check_headers(
    timestamp: str | None, signature: str | None, *, now: float | None = None, max_skew_s: float = MAX_SKEW_S
) -> None:
    """The checks that need no body: both headers present, a fresh timestamp, a v0 signature.

    Run before the body is read, so an unsigned or stale request costs no more than its headers.
    """
    if not timestamp:
        raise SlackSignatureError(f"missing {TIMESTAMP_HEADER} header")
    if not signature:
        raise SlackSignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SlackSignatureError(f"{TIMESTAMP_HEADER} is not a Unix time: {timestamp[:40]!r}") from None
    skew = (time.time() if now is None else now) - sent_at
    if skew > max_skew_s:
        raise SlackSignatureError(f"request timestamp is {skew:.0f}s old (more than {max_skew_s:.0f}s)")
    if skew < -max_skew_s:
        raise SlackSignatureError(f"request timestamp is {-skew:.0f}s in the future")
    if not signature.startswith(f"{VERSION}="):
        raise SlackSignatureError(f"unsupported signature version (expected {VERSION}=...)")


def verify(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    now: float | None = None,
    max_skew_s: float = MAX_SKEW_S,
) -> None:
    """Raise :class:`SlackSignatureError` unless ``signature`` is Slack's v0 signature of ``body``."""
    check_headers(timestamp, signature, now=now, max_skew_s=max_skew_s)
    assert timestamp is not None and signature is not None
    expected = sign(secret, timestamp, body)
    # Constant-time: how long the comparison takes reveals nothing about how much of it matched.
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SlackSignatureError("signature does not match the body (wrong signing secret?)")

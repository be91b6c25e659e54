"""What the guard publishes to the notifications topic: a short subject, a JSON message."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

#: SNS subjects are at most 100 characters of printable ASCII on one line.
SUBJECT_MAX = 99


def subject(text: str) -> str:
    """``text`` as a valid SNS subject: printable ASCII, one line, under 100 characters."""
    printable = "".join(c if 32 <= ord(c) < 127 else " " for c in text)
    line = " ".join(printable.split())
    if len(line) <= SUBJECT_MAX:
        return line
    return line[: SUBJECT_MAX - 3].rstrip() + "..."


def timestamp(seconds: float) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. ``2025-01-31T12:00:00.250Z``."""
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message(body: dict[str, Any]) -> str:
    """The message: one JSON document (values the APIs return as datetimes become text)."""
    return json.dumps(body, default=str, indent=2)

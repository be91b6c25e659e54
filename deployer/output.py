"""Everything the user sees: progress on stderr, results on stdout.

With ``--json``, stdout carries exactly one JSON document and nothing else;
progress and logs always go to stderr.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

_lock = threading.Lock()


class Reporter:
    def __init__(
        self,
        *,
        json_mode: bool = False,
        verbosity: int = 0,
        stream: TextIO | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.verbosity = verbosity
        self.stream = stream or sys.stderr
        self.out = out or sys.stdout

    # -- stderr -----------------------------------------------------------------
    def progress(self, message: str, *, scope: str | None = None) -> None:
        prefix = f"[{scope}] " if scope else ""
        with _lock:
            self.stream.write(f"{prefix}{message}\n")
            self.stream.flush()

    def detail(self, message: str, *, scope: str | None = None) -> None:
        if self.verbosity >= 1:
            self.progress(message, scope=scope)

    def debug(self, message: str, *, scope: str | None = None) -> None:
        if self.verbosity >= 2:
            self.progress(message, scope=scope)

    def warn(self, message: str) -> None:
        self.progress(f"warning: {message}")

    def error(self, message: str) -> None:
        with _lock:
            self.stream.write(f"error: {message}\n")
            self.stream.flush()

    # -- stdout -----------------------------------------------------------------
    def result(self, document: Any, text: str) -> None:
        """The command's result: one JSON document, or human text."""
        with _lock:
            if self.json_mode:
                self.out.write(json.dumps(document, indent=2, sort_keys=False, default=str))
                self.out.write("\n")
            elif text:
                self.out.write(text.rstrip("\n") + "\n")
            self.out.flush()


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)

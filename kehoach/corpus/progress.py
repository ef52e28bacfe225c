"""Progress on stderr: a tqdm bar on a terminal, one line per item when not on a terminal
(logs, CI, pipes), nothing when disabled."""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class Progress:
    """``with Progress(total, "adding") as bar: bar.update(note="file.pdf")``.

    ``enabled=None`` means on: a bar when the stream is a TTY, else one line per ``update(n>0)``;
    ``enabled=False`` is silent. ``lines=True`` forces the line mode."""

    def __init__(self, total: int, label: str = "", *, enabled: Optional[bool] = None,
                 stream: Optional[TextIO] = None, width: int = 28, lines: Optional[bool] = None):
        self.total = max(0, int(total))
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        if enabled is None:
            enabled = True
        self.enabled = bool(enabled) and self.total > 0
        self.lines = (not tty) if lines is None else bool(lines)
        self.width = width
        self.done = 0
        self.start = time.monotonic()
        self._bar = None
        if self.enabled and not self.lines:
            try:
                from tqdm import tqdm
                self._bar = tqdm(total=self.total, desc=label, file=self.stream, unit="file", leave=False,
                                 dynamic_ncols=True, mininterval=0.1)
            except ImportError:            # tqdm is a dependency; fall back to lines without it
                self.lines = True

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def render(self, note: str = "") -> str:
        """The line of the line mode: "adding 3/16 12s file.pdf"."""
        elapsed = time.monotonic() - self.start
        text = f"{self.label} {self.done}/{self.total} {elapsed:.0f}s"
        return text + (f" {note}" if note else "")

    def update(self, n: int = 1, note: str = "") -> None:
        self.done = min(self.total, self.done + n)
        if not self.enabled:
            return
        if self._bar is not None:
            if note:
                self._bar.set_postfix_str(note if len(note) <= 40 else "…" + note[-39:], refresh=False)
            self._bar.update(n)
        elif n > 0:
            self.stream.write(self.render(note) + "\n")
            self.stream.flush()

    def message(self, line: str) -> None:
        """Print a line above the bar (or plainly when the bar is off)."""
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
            return
        self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

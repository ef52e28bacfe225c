"""A small progress bar on stderr: silent when stderr is not a terminal or when disabled."""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class Progress:
    """``with Progress(total, "adding") as bar: bar.update(note="file.pdf")``.

    Redraws at most ten times a second; ``enabled=None`` means "when the stream is a TTY"."""

    def __init__(self, total: int, label: str = "", *, enabled: Optional[bool] = None,
                 stream: Optional[TextIO] = None, width: int = 28):
        self.total = max(0, int(total))
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled and self.total > 0
        self.width = width
        self.done = 0
        self.start = time.monotonic()
        self._last = 0.0
        self._shown = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def render(self, note: str = "") -> str:
        frac = self.done / self.total if self.total else 1.0
        fill = int(round(frac * self.width))
        bar = "#" * fill + "." * (self.width - fill)
        elapsed = time.monotonic() - self.start
        eta = ""
        if 0 < self.done < self.total:
            eta = f" eta {elapsed / self.done * (self.total - self.done):.0f}s"
        text = f"{self.label} [{bar}] {self.done}/{self.total}{eta}"
        if note:
            room = 100 - len(text)
            if room > 8:
                text += " " + (note if len(note) <= room else "…" + note[-(room - 1):])
        return text

    def update(self, n: int = 1, note: str = "") -> None:
        self.done = min(self.total, self.done + n)
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and self.done < self.total:
            return
        self._last = now
        self.stream.write("\r\x1b[K" + self.render(note))
        self.stream.flush()
        self._shown = True

    def message(self, line: str) -> None:
        """Print a line above the bar (or plainly when the bar is off)."""
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[K")
        self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

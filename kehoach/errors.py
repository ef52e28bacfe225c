"""Errors that reach the user as one clear line naming the file and the reason."""
from __future__ import annotations


class KehoachError(Exception):
    """Base class: ``str(err)`` is the one line shown to the user."""


class IngestError(KehoachError):
    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class NotAPlanError(IngestError):
    """The file has text but is not a Vietnamese administrative document."""


def printable(text: str) -> str:
    """``text`` safe on one terminal line: control characters (a newline in a file name), and the
    invisible format characters that reorder or hide text (U+202E), shown as escapes."""
    import unicodedata
    out = []
    for ch in str(text):
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != "\t":
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)

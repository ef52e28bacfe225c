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

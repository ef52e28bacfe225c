"""Corpus: the store of extracted plans (SQLite, WAL) in a corpus home, the registry of
canonical bodies, and the ``add`` / ``list`` / ``show`` commands.

``Corpus(home)`` opens (and creates/migrates) ``home/kehoach.sqlite3``; ``resolve_home`` finds
the home (``--home``, ``$KEHOACH_HOME``, the user data directory).
"""
from kehoach.corpus.home import resolve_home
from kehoach.corpus.store import (AddReport, AmbiguousPlanError, Corpus, CorpusError, CorpusLockedError,
                                  PlanInfo, TaskRecord)

__all__ = ["AddReport", "AmbiguousPlanError", "Corpus", "CorpusError", "CorpusLockedError", "PlanInfo",
           "TaskRecord", "resolve_home"]

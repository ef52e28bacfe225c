"""``kehoach watch FOLDER...``: add what is in the folders, then each file that appears or changes
there, until stopped.

One process keeps the corpus open with its index hooks, so the model, the link state
(``link._KEPT_LINKERS``), the search index and the compiled rules load once, and each later add
costs only its own plan (``benchmarks/bench_add.py --into --resident`` measures it). Events come
from watchfiles (the kernel's inotify through Rust's notify; ``poll`` for network shares and
containers where events do not arrive). A file is read once its size and modification time have
held for ``settle`` seconds, so a file still being copied or saved is not read half-written.
Files removed from a folder stay in the corpus: nothing stored is lost by tidying a folder.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Optional

from kehoach.corpus.store import FOLDER_SUFFIXES, Corpus, discover
from kehoach.errors import KehoachError, printable

POLL_MS = 500        # the longest a settled file waits for the next look (watchfiles' rust_timeout)


def wanted(path: Path) -> bool:
    """A file ``add`` would take from a folder: a readable format's suffix, not hidden, not an
    Office lock file (``~$name.docx``)."""
    name = path.name
    return not name.startswith((".", "~$")) and name.lower().endswith(FOLDER_SUFFIXES)


class Settling:
    """Files waiting for their size and modification time to hold for ``settle`` seconds."""

    def __init__(self, settle: float, clock: Callable[[], float] = time.monotonic):
        self.settle = settle
        self.clock = clock
        self._seen: dict[Path, tuple[tuple[int, int], float]] = {}   # path -> (size, mtime_ns), since

    def __len__(self) -> int:
        return len(self._seen)

    def note(self, path: Path) -> None:
        self._seen.pop(path, None)        # a new event restarts the wait
        self._seen[path] = ((-1, -1), self.clock())

    def ready(self) -> list[Path]:
        """The files that have held still long enough (and are forgotten here); files gone are dropped."""
        now = self.clock()
        out = []
        for path, (sig, since) in list(self._seen.items()):
            try:
                st = path.stat()
            except OSError:
                del self._seen[path]
                continue
            cur = (st.st_size, st.st_mtime_ns)
            if cur != sig:
                self._seen[path] = (cur, now)
            elif now - since >= self.settle:
                del self._seen[path]
                out.append(path)
        return out


def watch(corpus: Corpus, folders: Iterable[str], *, on_batch: Callable, log: Callable[[str], None],
          settle: float = 1.0, poll: bool = False, progress: bool = True, debug: bool = False,
          accept_any: bool = False, stop: Optional[threading.Event] = None) -> None:
    """Add the folders' files, then every file that appears or changes in them, until ``stop`` is
    set (or KeyboardInterrupt). ``on_batch(report)`` gets each ``Corpus.add`` report; ``log`` the
    one-line messages ("watching ...", a folder that is not one)."""
    from watchfiles import Change, watch as events
    roots = []
    for f in folders:
        p = Path(f)
        if not p.is_dir():
            raise KehoachError(f"{printable(f)}: not a folder")
        roots.append(p.resolve())

    def add(paths: list[str]) -> None:
        on_batch(corpus.add(paths, progress=progress, debug=debug, log=log, accept_any=accept_any))

    pending = Settling(settle)
    first = True
    for changes in events(*roots, watch_filter=lambda change, path: change != Change.deleted and wanted(Path(path)),
                          force_polling=poll or None, poll_delay_ms=POLL_MS, rust_timeout=POLL_MS,
                          yield_on_timeout=True, stop_event=stop, debounce=POLL_MS, step=50):
        if first:                 # the watcher runs now: what was there before is added, and a file
            first = False         # dropped meanwhile comes as an event too (re-adding is a no-op)
            found, _ = discover([str(r) for r in roots])
            if found:
                add([str(p) for _, p in found])
            log(f"watching {', '.join(printable(str(r)) for r in roots)} (Ctrl-C stops)")
        for _, path in changes:
            pending.note(Path(path))
        ready = pending.ready()
        if ready:
            add(sorted(str(p) for p in ready))

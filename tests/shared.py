"""Where the tests find their data: the vendored copy in ``tests/data/shared`` (same layout as the
project's shared yardstick folder), or the folder named by ``KEHOACH_SHARED``.

``need(rel)`` returns a path and fails the test, naming the data, when it is missing: a golden
test never passes by collecting nothing.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("KEHOACH_SHARED") or Path(__file__).resolve().parent / "data" / "shared")


def need(rel: str) -> Path:
    """``SHARED / rel``, failing the calling test when it does not exist."""
    p = SHARED / rel
    if not p.exists():
        pytest.fail(f"test data missing: {p} (vendored under tests/data/shared; see its README)")
    return p


def files(rel: str, pattern: str) -> list[Path]:
    """The files matching ``pattern`` in ``SHARED / rel``; fails when there are none."""
    found = sorted(need(rel).glob(pattern))
    if not found:
        pytest.fail(f"test data missing: no {pattern} in {SHARED / rel}")
    return found


def serve_in_thread(app):
    """Serve ``app`` (an ASGI app) with uvicorn on a free loopback port in a daemon thread; yields the
    base URL and stops the server after (a generator for module-scoped pytest fixtures)."""
    import socket
    import threading
    import time

    import uvicorn
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    th.join(5)


def paragraphs_and_tables(doc):
    """A read document in reading order as ("p", text) and ("table", rows: the header row first), each table
    once: what the tests write again as another format (DOCX, HTML) to read it back."""
    seen = set()
    for b in doc.blocks:
        if b.cells is None:
            yield "p", b.text
        elif b.table not in seen:
            seen.add(b.table)
            t = doc.tables[b.table]
            yield "table", ([t.header] if t.header else []) + [doc.blocks[i].cells for i in t.rows]

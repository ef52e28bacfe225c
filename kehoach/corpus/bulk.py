"""Bulk ingest on a Dask cluster: ``kehoach add --engine dask [--workers N] [--scheduler ADDRESS] PATH...``.

Reading and extraction (``store.ingest_and_extract``) run as one task per file on the workers of a
``dask.distributed`` cluster: a ``LocalCluster`` of ``workers`` processes on this machine, or an existing
cluster (SSH, Kubernetes, HPC job queue, YARN: anything with a scheduler address) given as
``scheduler``. The client (this process) is the only writer: it takes the results as they complete and
writes each with ``Corpus.store`` (one transaction per plan, idempotent by path + content hash), so the
SQLite store and its lock stay as they are.

- What is already stored unchanged (same path, same SHA-256) is skipped on the worker, which hashes
  the file before reading it: a re-run, or the rest of a half-finished job, adds nothing twice.
- At most ``batch`` files are in flight (submitted and not yet written); the results that are ready
  are written in rounds of at most ``batch``, then the window is topped up. Memory stays bounded
  however many files the job has.
- What crosses the wire is plain data: the file's path and stored hash one way; the extraction's
  ``Extraction.to_dict()``, the normalized text and the few ``IngestedDocument`` fields the store
  reads the other way (no blocks, tables or page images).
- A file that fails is one line naming it and the reason, the same words as ``Corpus.add`` (a worker
  process that dies on a file is reported for that file); the batch goes on. Ctrl-C stops the job:
  every plan written so far stays, and the index hooks run for them, as in ``add``.
- The workers only import what extraction imports (the rule tables, spaCy's blank pipeline,
  underthesea's POS tagger); no embedding model is loaded on them: the index hooks (links, search
  index) run once on the client at the end, as ``add`` runs them.

Files are read by the workers at the path the client discovers, so on a real cluster the archive
must be mounted at the same path on every worker (NFS, Lustre, a bucket mount), and every worker must
run the same kehoach version (checked at the start).
"""
from __future__ import annotations

import logging
import os
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from kehoach import __version__
from kehoach.corpus.progress import Progress
from kehoach.corpus.store import (AddReport, Corpus, CorpusError, _file_sha256, discover, ingest_and_extract,
                                  not_a_plan)
from kehoach.errors import KehoachError, NotAPlanError
from kehoach.models import Extraction, IngestedDocument

try:                                     # one terminal line per name (the reliability branch's helper)
    from kehoach.errors import printable
except ImportError:                      # pragma: no cover - older kehoach.errors
    def printable(text: str) -> str:
        return str(text)

ENGINES = ("dask",)
DEFAULT_BATCH = 64
INSTALL_HINT = "the dask engine needs dask and distributed: pip install 'kehoach[bulk]'"


# --------------------------------------------------------------------------- the worker side

def failure_reason(e: BaseException, given: str, path: Path | str) -> str:
    """The reason ``Corpus.add`` prints for a file that failed (without the file name), on one line."""
    reason = getattr(e, "reason", None) if isinstance(e, KehoachError) else None
    if reason is None:
        reason = str(e) if isinstance(e, KehoachError) else f"{type(e).__name__}: {e}"
        if reason.startswith(given + ": ") or reason.startswith(str(path) + ": "):
            reason = reason.split(": ", 1)[1]
    return " ".join(str(reason).split())


def read_one(given: str, spath: str, stored_sha: Optional[str], accept_any: bool = False,
             debug: bool = False) -> dict:
    """One task on a worker: hash, read and extract one file. Returns a plain dict:

    {"kind": "unchanged"} | {"kind": "extracted", "doc": {...}, "ext": {...}, "province": ...}
    | {"kind": "failed" | "not_plan", "reason": "...", ["traceback": "..."]}."""
    path = Path(spath)
    try:
        if not path.is_file():
            raise CorpusError(f"{given}: no such file")
        if stored_sha is not None and _file_sha256(path) == stored_sha:
            return {"kind": "unchanged"}
        doc, ext = ingest_and_extract(path, given)
        if not accept_any:
            why = not_a_plan(ext)
            if why:
                raise NotAPlanError(given, f"not a plan: {why} (add it with --accept-any to store it anyway)")
        return {"kind": "extracted",
                "doc": {"source": doc.source, "sha256": doc.sha256, "format": doc.format, "text": doc.text,
                        "pages": doc.pages, "warnings": list(doc.warnings)},
                "ext": ext.to_dict(),
                # DocumentInfo fields the store reads that the SPEC JSON does not carry
                "province": getattr(ext.document, "province", None),
                "issued_plan": getattr(ext.document, "issued_plan", None)}
    except Exception as e:                 # noqa: BLE001 - every failure is one line for its file
        out = {"kind": "not_plan" if isinstance(e, NotAPlanError) else "failed",
               "reason": failure_reason(e, given, path)}
        if debug and not isinstance(e, KehoachError):
            out["traceback"] = traceback.format_exc()
        return out


def rebuild(result: dict) -> tuple[IngestedDocument, Extraction]:
    """The records ``Corpus.store`` takes, from a worker's ``extracted`` result."""
    d = result["doc"]
    doc = IngestedDocument(source=d["source"], sha256=d["sha256"], format=d["format"], text=d["text"], blocks=[],
                           pages=d.get("pages"), warnings=list(d.get("warnings") or []))
    ext = Extraction.from_dict(result["ext"])
    ext.document.province = result.get("province")
    ext.document.issued_plan = result.get("issued_plan")
    return doc, ext


def worker_info() -> dict:
    """What a worker runs (checked against the client before a job)."""
    import kehoach
    return {"version": kehoach.__version__, "file": kehoach.__file__, "pid": os.getpid()}


# --------------------------------------------------------------------------- the cluster

class _Cluster:
    """A dask Client on an existing scheduler, or on a LocalCluster made (and closed) here."""

    def __init__(self, workers: Optional[int], scheduler: Any, debug: bool):
        try:
            import dask
            import distributed
        except ImportError:
            raise CorpusError(INSTALL_HINT) from None
        if not debug:
            for name in ("distributed", "tornado"):
                logging.getLogger(name).setLevel(logging.ERROR)
        self.cluster = None
        self.own_client = True
        if isinstance(scheduler, distributed.Client):
            self.client, self.own_client = scheduler, False
        elif scheduler:
            try:
                self.client = distributed.Client(str(scheduler), timeout=30)
            except (OSError, TimeoutError) as e:
                raise CorpusError(f"cannot reach the dask scheduler at {scheduler} ({' '.join(str(e).split())})"
                                  ) from None
        else:
            n = int(workers or os.cpu_count() or 1)
            if n < 1:
                raise CorpusError(f"--workers must be at least 1 (got {n})")
            # a file that kills its worker process twice is reported, not retried forever
            with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
                self.cluster = distributed.LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                    # no dashboard; the scheduler's own HTTP endpoint on a free port, not 8787
                    scheduler_kwargs={"dashboard_address": ":0"},
                    silence_logs=logging.DEBUG if debug else logging.ERROR)
            self.client = distributed.Client(self.cluster)
        try:
            self.client.wait_for_workers(1, timeout=120)
            infos = self.client.run(worker_info)
        except Exception as e:               # noqa: BLE001 - no worker, or a worker without kehoach
            self.close()
            raise CorpusError(f"the dask workers cannot run kehoach ({type(e).__name__}: "
                              f"{' '.join(str(e).split())}); install kehoach {__version__} on every worker") from None
        self.workers = infos
        other = sorted({i["version"] for i in infos.values()} - {__version__})
        if other:
            self.close()
            raise CorpusError(f"the dask workers run kehoach {', '.join(other)}, this client {__version__}: "
                              f"install the same version everywhere")
        self.threads = sum(self.client.nthreads().values()) or 1

    def close(self) -> None:
        try:
            if self.own_client:
                self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
                self.cluster = None


# --------------------------------------------------------------------------- the client side

def bulk_add(corpus: Corpus, paths: Sequence[str], *, engine: str = "dask", workers: Optional[int] = None,
             scheduler: Any = None, batch: int = DEFAULT_BATCH, progress: bool = True, debug: bool = False,
             log: Optional[Callable[[str], None]] = None, accept_any: bool = False) -> AddReport:
    """``Corpus.add`` with reading and extraction on a Dask cluster (see the module doc).

    ``workers``: processes of a LocalCluster made for this job (default: the CPU count);
    ``scheduler``: the address of an existing cluster ("tcp://host:8786") or a ``distributed.Client``
    (then ``workers`` is ignored); ``batch``: files in flight and plans per write round."""
    if engine not in ENGINES:
        raise CorpusError(f"engine {engine!r}: not supported (choose {', '.join(ENGINES)})")
    if batch < 1:
        raise CorpusError(f"batch must be at least 1 (got {batch})")
    t0 = time.perf_counter()
    report = AddReport()
    files, bad = discover(paths)
    report.failed.extend(bad)
    say = log or (lambda line: None)
    for given, why in bad:
        say(f"{printable(given)}: {why}")
    if not files:
        report.seconds = time.perf_counter() - t0
        return report
    known = {p: s for p, s in corpus.conn.execute("SELECT path, sha256 FROM plans")}
    added_ids: list[int] = []
    removed_ids: list[int] = []
    cluster = _Cluster(workers, scheduler, debug)
    try:
        from distributed import as_completed
        window = max(batch, 2 * cluster.threads)
        with Progress(len(files), "adding", enabled=None if progress else False) as bar:
            def note(line: str) -> None:
                bar.message(line) if log is None and bar.enabled else say(line)

            def settle(given: str, path: Path, result: dict) -> None:
                """Write (or report) one file's result."""
                kind = result["kind"]
                if kind == "unchanged":
                    report.unchanged.append(given)
                    return
                if kind in ("failed", "not_plan"):
                    (report.not_plans if kind == "not_plan" else report.failed).append((given, result["reason"]))
                    note(f"{printable(given)}: {result['reason']}")
                    if result.get("traceback"):
                        note(result["traceback"].rstrip())
                    return
                doc, ext = rebuild(result)
                try:
                    outcome, plan_id, other = corpus.store(given, path, doc, ext)
                except KehoachError as e:
                    reason = failure_reason(e, given, path)
                    report.failed.append((given, reason))
                    note(f"{printable(given)}: {reason}")
                    return
                if hasattr(report, "extracted"):
                    report.extracted += 1
                line = report.record(given, outcome, plan_id, other, added_ids, removed_ids)
                if line:
                    note(line)

            pending = iter(files)
            inflight: dict = {}
            done = as_completed()

            def top_up() -> None:
                for given, path in pending:
                    fut = cluster.client.submit(read_one, given, str(path), known.get(str(path)), accept_any, debug,
                                                pure=False)
                    inflight[fut] = (given, path)
                    done.add(fut)
                    if len(inflight) >= window:
                        return

            try:
                top_up()
                for ready in done.batches():
                    for start in range(0, len(ready), batch):        # one write round: at most ``batch``
                        for fut in ready[start:start + batch]:
                            given, path = inflight.pop(fut)
                            try:
                                result = fut.result()
                            except Exception as e:   # noqa: BLE001 - the worker died on it, or was lost
                                why = "its worker process died reading it" if type(e).__name__ == "KilledWorker" \
                                    else f"{type(e).__name__}: {' '.join(str(e).split())}"
                                result = {"kind": "failed", "reason": why}
                            fut.release()
                            bar.update(0, note=printable(given))
                            settle(given, path, result)
                            bar.update(1, note=printable(given))
                    top_up()
            except BaseException:
                if inflight:                       # interrupted: do not leave work queued on a shared cluster
                    try:
                        cluster.client.cancel(list(inflight), force=True)
                    except Exception:              # noqa: BLE001 - the client may be closing already
                        pass
                raise
            finally:
                report.seconds = time.perf_counter() - t0
                # what was committed is indexed, even when interrupted (as Corpus.add does)
                corpus._fire(added_ids, removed_ids, report)
    finally:
        cluster.close()
    report.seconds = time.perf_counter() - t0
    return report

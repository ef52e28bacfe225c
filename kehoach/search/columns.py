"""The search index's task records as columns on disk, not Python objects per task.

``DocColumns`` is a read-only sequence of ``SearchDoc``: each task's fields are one UTF-8 JSON
record in a byte blob (its plan kept once, in a plan table), found through an offsets array.
Saved as ``.npy`` files and memory-mapped on load, so a 1M-task index starts without decoding
a million records, and only the hits a query returns are decoded.

``TableColumns`` are the arrays the filters read (plan row, deadline, indicator, has-lead,
owner combination), saved beside them for the same reason.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

import numpy as np

_DOC_FIELDS = ("key", "source", "plan_id", "task_id", "kind", "section", "text", "lead", "support",
               "deadline", "targets", "span")


def _record(d) -> bytes:
    return json.dumps([getattr(d, f) for f in _DOC_FIELDS], ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _plan_key(plan: dict) -> str:
    return json.dumps(plan, ensure_ascii=False, sort_keys=True)


def digest(d, record: Optional[bytes] = None, plan_key: Optional[str] = None) -> int:
    """64-bit digest of a record with its plan: an index is extended, not rebuilt, only while
    every record it holds is unchanged."""
    h = hashlib.blake2b(record or _record(d), digest_size=8)
    h.update((plan_key or _plan_key(d.plan)).encode("utf-8"))
    return int.from_bytes(h.digest(), "little")


class DocColumns(Sequence):
    """``SearchDoc`` records stored as JSON bytes + offsets, plans in their own table."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, plan_row: np.ndarray, plans: list[dict],
                 digests: np.ndarray, doc_type=None):
        from kehoach.search.hybrid import SearchDoc
        self.blob, self.offsets, self.plan_row, self.plans = blob, offsets, plan_row, plans
        self.digests = digests
        self._doc = doc_type or SearchDoc

    @classmethod
    def build(cls, docs: Iterable) -> "DocColumns":
        """From ``SearchDoc``s (any iterable: it is read once)."""
        chunks: list[bytes] = []
        lens: list[int] = []
        rows: list[int] = []
        plans: list[dict] = []
        plan_index: dict[str, int] = {}
        digests: list[int] = []
        for d in docs:
            rec = _record(d)
            chunks.append(rec)
            lens.append(len(rec))
            pkey = _plan_key(d.plan)
            digests.append(digest(d, rec, pkey))
            r = plan_index.get(pkey)
            if r is None:
                r = plan_index[pkey] = len(plans)
                plans.append(d.plan)
            rows.append(r)
        offsets = np.zeros(len(lens) + 1, np.int64)
        np.cumsum(np.asarray(lens, np.int64), out=offsets[1:])
        blob = np.frombuffer(b"".join(chunks), np.uint8) if chunks else np.zeros(0, np.uint8)
        return cls(blob, offsets, np.asarray(rows, np.int32), plans, np.asarray(digests, np.uint64))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def _one(self, i: int):
        vals = json.loads(self.blob[self.offsets[i]:self.offsets[i + 1]].tobytes())
        return self._doc(**dict(zip(_DOC_FIELDS, vals)), plan=self.plans[int(self.plan_row[i])])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._one(k) for k in range(*i.indices(len(self)))]
        n = len(self)
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return self._one(i)

    def __iter__(self) -> Iterator:
        for i in range(len(self)):
            yield self._one(i)

    def take(self, idx: Iterable[int]) -> list:
        """The records at these positions (e.g. ``np.flatnonzero(mask)``)."""
        return [self._one(int(i)) for i in idx]

    def keys(self) -> list[str]:
        return [json.loads(self.blob[self.offsets[i]:self.offsets[i + 1]].tobytes())[0] for i in range(len(self))]

    def nbytes(self) -> int:
        return int(self.blob.nbytes + self.offsets.nbytes + self.plan_row.nbytes)

    def save(self, folder: Path, prefix: str = "docs") -> None:
        np.save(folder / f"{prefix}_blob.npy", self.blob)
        np.save(folder / f"{prefix}_offsets.npy", self.offsets)
        np.save(folder / f"{prefix}_plan_row.npy", self.plan_row)
        np.save(folder / f"{prefix}_digests.npy", self.digests)
        (folder / f"{prefix}_plans.json").write_text(json.dumps(self.plans, ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, folder: Path, prefix: str = "docs", mmap: bool = True) -> "DocColumns":
        mode = "r" if mmap else None
        return cls(np.load(folder / f"{prefix}_blob.npy", mmap_mode=mode),
                   np.load(folder / f"{prefix}_offsets.npy", mmap_mode=mode),
                   np.load(folder / f"{prefix}_plan_row.npy", mmap_mode=mode),
                   json.loads((folder / f"{prefix}_plans.json").read_text("utf-8")),
                   np.load(folder / f"{prefix}_digests.npy", mmap_mode=mode))


class ChainedDocs(Sequence):
    """Several ``DocColumns`` read as one sequence (the index's segments)."""

    def __init__(self, parts: Sequence[DocColumns]):
        self.parts = list(parts)
        self.starts = np.cumsum([0] + [len(p) for p in self.parts])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        k = int(np.searchsorted(self.starts, i, side="right")) - 1
        return self.parts[k][i - int(self.starts[k])]

    def __iter__(self):
        for p in self.parts:
            yield from p

    def take(self, idx: Iterable[int]) -> list:
        return [self[int(i)] for i in idx]

    def keys(self) -> list[str]:
        return [k for p in self.parts for k in p.keys()]

    @property
    def digests(self) -> np.ndarray:
        return np.concatenate([np.asarray(p.digests) for p in self.parts])


class TableColumns:
    """The per-task arrays the filters read, with the plan and owner-combination tables they index."""

    def __init__(self, plan_ids: np.ndarray, plans: list[dict], plan_idx: np.ndarray, deadline: np.ndarray,
                 indicator: np.ndarray, has_lead: np.ndarray, owner_idx: np.ndarray, owner_combos: list[str]):
        self.plan_ids, self.plans, self.plan_idx = plan_ids, plans, plan_idx
        self.deadline, self.indicator, self.has_lead = deadline, indicator, has_lead
        self.owner_idx, self.owner_combos = owner_idx, owner_combos

    @classmethod
    def build(cls, docs: Iterable) -> "TableColumns":
        plan_row: dict[int, int] = {}
        plans: list[dict] = []
        plan_idx, deadline, indicator, has_lead, owner_idx = [], [], [], [], []
        combos: dict[tuple, int] = {}
        for d in docs:
            r = plan_row.get(d.plan_id)
            if r is None:
                r = plan_row[d.plan_id] = len(plans)
                plans.append(d.plan)
            plan_idx.append(r)
            deadline.append((d.deadline or {}).get("date") or "")
            indicator.append(d.kind == "indicator")
            has_lead.append(bool(d.lead))
            owner_idx.append(combos.setdefault(tuple(d.lead) + ("|",) + tuple(d.support), len(combos)))
        return cls(np.asarray(list(plan_row), np.int64), plans, np.asarray(plan_idx, np.int32),
                   np.asarray(deadline, dtype="U10"), np.asarray(indicator, bool), np.asarray(has_lead, bool),
                   np.asarray(owner_idx, np.int32), [" | ".join(x for x in c if x != "|") for c in combos])

    @classmethod
    def concat(cls, parts: Sequence["TableColumns"]) -> "TableColumns":
        """One table over segments: plan rows and owner combinations renumbered into shared tables."""
        if len(parts) == 1:
            return parts[0]
        plan_row: dict[int, int] = {}
        plans: list[dict] = []
        combos: dict[str, int] = {}
        pidx, oidx = [], []
        for t in parts:
            pmap = np.zeros(max(len(t.plans), 1), np.int32)
            for k, (pid, p) in enumerate(zip(t.plan_ids.tolist(), t.plans)):
                r = plan_row.get(pid)
                if r is None:
                    r = plan_row[pid] = len(plans)
                    plans.append(p)
                else:
                    plans[r] = p           # a later segment holds the plan's newer record
                pmap[k] = r
            omap = np.asarray([combos.setdefault(c, len(combos)) for c in t.owner_combos] or [0], np.int32)
            pidx.append(pmap[np.asarray(t.plan_idx)] if len(t.plan_idx) else np.zeros(0, np.int32))
            oidx.append(omap[np.asarray(t.owner_idx)] if len(t.owner_idx) else np.zeros(0, np.int32))
        return cls(np.asarray(list(plan_row), np.int64), plans, np.concatenate(pidx),
                   np.concatenate([np.asarray(t.deadline) for t in parts]),
                   np.concatenate([np.asarray(t.indicator) for t in parts]),
                   np.concatenate([np.asarray(t.has_lead) for t in parts]), np.concatenate(oidx), list(combos))

    def save(self, folder: Path, prefix: str = "table") -> None:
        for name in ("plan_ids", "plan_idx", "deadline", "indicator", "has_lead", "owner_idx"):
            np.save(folder / f"{prefix}_{name}.npy", getattr(self, name))
        (folder / f"{prefix}.json").write_text(json.dumps({"plans": self.plans, "owner_combos": self.owner_combos},
                                                          ensure_ascii=False), "utf-8")

    @classmethod
    def load(cls, folder: Path, prefix: str = "table", mmap: bool = True) -> "TableColumns":
        mode = "r" if mmap else None
        a = {name: np.load(folder / f"{prefix}_{name}.npy", mmap_mode=mode)
             for name in ("plan_ids", "plan_idx", "deadline", "indicator", "has_lead", "owner_idx")}
        meta = json.loads((folder / f"{prefix}.json").read_text("utf-8"))
        return cls(a["plan_ids"], meta["plans"], a["plan_idx"], a["deadline"], a["indicator"], a["has_lead"],
                   a["owner_idx"], meta["owner_combos"])

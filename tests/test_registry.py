"""Registry: status by --as-of, JSON shape, CSV/XLSX round trips, bad input."""
import csv
import hashlib
import io
import json
from datetime import date

import numpy as np
import pytest

from kehoach.corpus.registry import (RegistryError, parse_as_of, read_csv, read_registry, read_xlsx,
                                     registry_from_extractions, registry_rows, task_status, write_csv,
                                     write_registry, write_xlsx)
from kehoach.models import Extraction

from tests.shared import files


class HashEmbedder:
    """A cheap deterministic bag-of-syllables embedder (the registry does not need a good one)."""
    name, dim = "hash-test", 256

    def embed_passages(self, texts):
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1
        n = np.linalg.norm(out, axis=1, keepdims=True)
        n[n == 0] = 1
        return out / n

    def embed_query(self, text):
        return self.embed_passages([text])[0]


@pytest.fixture(scope="module")
def exts():
    return [Extraction.from_dict(json.loads(p.read_text("utf-8"))) for p in files("eval/gold", "*.json")]


@pytest.fixture(scope="module")
def reg(exts):
    return registry_from_extractions(exts, HashEmbedder(), date(2022, 1, 1))


def test_status_by_as_of():
    d = {"text": "trước ngày 15/8/2021", "date": "2021-08-15", "recurrence": None, "day": None}
    assert task_status(d, date(2021, 8, 15)) == "open"
    assert task_status(d, date(2021, 8, 16)) == "overdue"
    month = dict(d, date="2021-08")                 # a partly blank date runs to the end of its period
    assert task_status(month, date(2021, 8, 20)) == "open"
    assert task_status(month, date(2021, 9, 1)) == "overdue"
    assert task_status(dict(d, date="2021"), date(2021, 12, 31)) == "open"
    assert task_status({"text": "Thường xuyên", "date": None, "recurrence": "continuous", "day": None},
                       date(2030, 1, 1)) == "recurring"
    assert task_status(None, date(2030, 1, 1)) == "open"
    assert parse_as_of("2021-08") == date(2021, 8, 31)
    assert parse_as_of("15/8/2021") == date(2021, 8, 15)      # dd/mm/yyyy, as staff write it
    with pytest.raises(RegistryError):
        parse_as_of("32/8/2021")


def test_registry_shape_and_status_follow_as_of(exts, reg):
    n_tasks = sum(len(e.tasks) for e in exts)
    seen = {(t["source"], t["task_id"]) for c in reg["clusters"] for t in c["tasks"]}
    assert len(seen) == n_tasks                                            # every task, singletons too
    assert sum(len(c["tasks"]) for c in reg["clusters"]) >= n_tasks        # a task may serve 2+ clusters
    assert any(len(c["tasks"]) == 1 for c in reg["clusters"])
    for c in reg["clusters"]:
        assert c["id"] and c["label"]
        for t in c["tasks"]:
            assert {"source", "task_id", "text", "lead", "support", "deadline", "plan", "status"} <= set(t)
            assert set(t["plan"]) == {"number", "issuer", "date", "title", "province"}
    dated = [t for c in reg["clusters"] for t in c["tasks"]
             if t["deadline"] and t["deadline"]["date"] and not t["deadline"]["recurrence"]]
    assert dated
    later = registry_from_extractions(exts, HashEmbedder(), date(2100, 1, 1))
    assert all(t["status"] == "overdue" for c in later["clusters"] for t in c["tasks"]
               if t["deadline"] and t["deadline"]["date"] and not t["deadline"]["recurrence"])
    assert any(t["status"] == "recurring" for c in later["clusters"] for t in c["tasks"])


def _strip(r):
    return [[{k: t[k] for k in ("source", "task_id", "text", "lead", "support", "deadline", "plan", "status")}
             for t in c["tasks"]] for c in r["clusters"]]


def test_csv_round_trip(reg, tmp_path):
    p = tmp_path / "reg.csv"
    write_registry(reg, "csv", str(p))
    back = read_csv(p)
    assert _strip(back) == _strip(reg)
    assert [c["id"] for c in back["clusters"]] == [c["id"] for c in reg["clusters"]]
    assert len(list(csv.reader(io.StringIO(p.read_text("utf-8"))))) == len(registry_rows(reg)) + 1


def test_xlsx_round_trip_and_sheet(reg, tmp_path):
    from openpyxl import load_workbook
    p = tmp_path / "reg.xlsx"
    write_xlsx(reg, p)
    assert _strip(read_xlsx(p)) == _strip(reg)
    assert _strip(read_registry(p)) == _strip(reg)
    ws = load_workbook(p).active
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref.startswith("A1:")
    assert ws.column_dimensions["I"].width > ws.column_dimensions["A"].width   # the task text column is wide
    assert ws.max_row == len(registry_rows(reg)) + 1


def test_bad_registry_files(tmp_path):
    p = tmp_path / "other.csv"
    p.write_text("a,b\n1,2\n", "utf-8")
    with pytest.raises(RegistryError) as e:
        read_csv(p)
    assert "other.csv" in str(e.value)
    x = tmp_path / "broken.xlsx"
    x.write_bytes(b"not a zip")
    with pytest.raises(RegistryError) as e:
        read_xlsx(x)
    assert "broken.xlsx" in str(e.value)
    with pytest.raises(RegistryError):
        read_registry(tmp_path / "missing.csv")
    with pytest.raises(RegistryError):
        write_registry({"clusters": []}, "xlsx", None)


def test_link_evidence_column(tmp_path):
    """Every task of a multi-task cluster says why it is there (its partner and the shared phrase,
    legal basis or cosine); the column survives CSV and XLSX, and singletons leave it empty.
    Two real provincial plans carrying out one emulation campaign (and a third plan), whose shared
    tasks link even with the cheap embedder."""
    from pathlib import Path
    real = Path(__file__).parent / "data" / "links-real" / "extractions"
    exts = [Extraction.from_dict(json.loads((real / f"{s}.json").read_text("utf-8")))
            for s in ("0124-KH-UBND__556b2fb4", "982-KH-UBND__99c7d8ff", "159-KH-UBND__d40513a8")]
    reg = registry_from_extractions(exts, HashEmbedder(), date(2026, 1, 1))
    multi = [c for c in reg["clusters"] if len(c["tasks"]) > 1]
    assert multi
    for c in multi:
        assert all(t["link_evidence"] for t in c["tasks"])
        assert all(l["reason"] and "cos" in l["reason"] for l in c["links"])
    assert all(not t["link_evidence"] for c in reg["clusters"] if len(c["tasks"]) == 1 for t in c["tasks"])
    p = tmp_path / "reg.csv"
    write_registry(reg, "csv", str(p))
    header = next(csv.reader(io.StringIO(p.read_text("utf-8-sig"))))
    assert "Căn cứ liên kết" in header
    back = read_csv(p)
    assert [t["link_evidence"] for c in back["clusters"] for t in c["tasks"]] == \
           [t["link_evidence"] for c in reg["clusters"] for t in c["tasks"]]
    x = tmp_path / "reg.xlsx"
    write_xlsx(reg, x)
    assert [t["link_evidence"] for c in read_xlsx(x)["clusters"] for t in c["tasks"]] == \
           [t["link_evidence"] for c in reg["clusters"] for t in c["tasks"]]
    # a sheet written before the column existed still reads
    old = tmp_path / "old.csv"
    rows = list(csv.reader(io.StringIO(p.read_text("utf-8-sig"))))
    j = rows[0].index("Căn cứ liên kết")
    with old.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([r[:j] + r[j + 1:] for r in rows])
    assert len(read_csv(old)["clusters"]) == len(back["clusters"])

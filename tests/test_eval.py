"""kehoach.eval against the yardstick: the vendored copy of the shared ``score.py`` must give the
same summary and detail, on the seeds, on damaged predictions, on the real gold, and from the CLI."""
from __future__ import annotations

import copy
import importlib.util
import json
import random
import re
from pathlib import Path

import pytest

from kehoach.cli import main as kehoach_main
from kehoach.eval import extract_report, links_report, search_report
from kehoach.eval.match import body_match, fold_text, ref_key
from kehoach.extract import extract
from kehoach.ingest import read
from tests.shared import files, need


@pytest.fixture(scope="module")
def yardstick():
    spec = importlib.util.spec_from_file_location("yardstick_score", need("eval/score.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def seed_records():
    return [extract(read(p)).to_dict() for p in files("seeds", "*.txt")]


def _jsonl(tmp_path, records, name="pred.jsonl"):
    out = tmp_path / name
    out.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    return out


def _damaged(records, seed):
    """The records with tasks dropped, cut, split and re-owned, references dropped or re-dated,
    header fields changed: every branch of the scores gets exercised."""
    rnd = random.Random(seed)
    out = copy.deepcopy(records)
    for rec in out:
        tasks = []
        for t in rec["tasks"]:
            roll = rnd.random()
            if roll < 0.15:
                continue                                    # missed
            if roll < 0.25:
                words = t["text"].split()
                t["text"] = " ".join(words[: max(1, len(words) // 2)])   # cut in half
            elif roll < 0.32:
                words = t["text"].split()
                half = len(words) // 2
                tasks.append(dict(t, text=" ".join(words[:half])))       # split in two
                t = dict(t, text=" ".join(words[half:]))
            if rnd.random() < 0.2:
                t["lead"] = (t.get("lead") or [])[1:] + ["UBND tỉnh"]
            if rnd.random() < 0.2:
                t["support"] = ["Sở Tài chính"]
            if rnd.random() < 0.2 and t.get("deadline"):
                t["deadline"] = dict(t["deadline"], date="2030-01-01")
            if rnd.random() < 0.05:
                t["kind"] = "note"                          # not scored
            tasks.append(t)
        tasks.append({"id": "tx", "kind": "task", "text": "Một nhiệm vụ không có trong bản gốc nào cả ."})
        rec["tasks"] = tasks
        refs = []
        for r in rec["legal_refs"]:
            roll = rnd.random()
            if roll < 0.15:
                continue
            if roll < 0.3:
                r["date"] = None
            elif roll < 0.4:
                r["issuer"] = "Bộ Nội vụ"
            refs.append(r)
        refs.append({"type": "Quyết định", "number": "9999", "symbol": None, "date": "2020-01-01"})
        rec["legal_refs"] = refs
        doc = rec["document"]
        if rnd.random() < 0.5:
            doc["number"] = None
        if rnd.random() < 0.5:
            doc["title"] = (doc.get("title") or "")[:20]
        if rnd.random() < 0.5:
            doc["signer"] = {"name": "Nguyễn Văn A", "title": doc.get("signer", {}).get("title")}
    return out


def test_seed_predictions_score_the_same(yardstick, seed_records, tmp_path):
    pred = _jsonl(tmp_path, seed_records)
    gold = need("eval/gold")
    assert extract_report(gold, pred) == yardstick.extract_report(str(gold), str(pred))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_damaged_predictions_score_the_same(yardstick, seed_records, tmp_path, seed):
    damaged = _damaged(seed_records, seed)
    pred = _jsonl(tmp_path, damaged[1:])          # one document missing altogether
    gold = need("eval/gold")
    ours, theirs = extract_report(gold, pred), yardstick.extract_report(str(gold), str(pred))
    assert ours == theirs
    assert ours[0]["overall"] < 0.95              # the damage shows


def test_real_gold_against_current_predictions(yardstick, tmp_path):
    srcs = files("real/web", "*.txt") + [need("real/pdf/quyet-dinh-so-892-qd-ttg-469579.pdf")]
    pred = _jsonl(tmp_path, [extract(read(p)).to_dict() for p in srcs])
    gold = need("eval/gold-real")
    ours = extract_report(gold, pred)
    assert ours == yardstick.extract_report(str(gold), str(pred))
    assert ours[0]["documents"] == 12


def _search_predictions(rnd):
    """Ranked hits per query: relevant gold tasks mixed with others, some cut short, some leads swapped."""
    queries = json.loads(need("eval/queries.json").read_text("utf-8"))
    gold = {p.stem: json.loads(p.read_text("utf-8")) for p in files("eval/gold", "*.json")}
    pool = [(s, t) for s, g in gold.items() for t in g["tasks"]]
    by_key = {(s, t["id"]): t for s, t in pool}
    pred = {}
    for q in queries[:-1]:                                   # the last query gets no answer
        hits = [(r["source"], by_key[(r["source"], r["task"])]) for r in q["relevant"] if rnd.random() < 0.7]
        hits += rnd.sample(pool, 8)
        rnd.shuffle(hits)
        out = []
        for s, t in hits:
            text = t["text"] if rnd.random() < 0.8 else " ".join(t["text"].split()[:4])
            out.append({"source": s + ".txt", "text": text,
                        "lead": t.get("lead") if rnd.random() < 0.7 else ["Sở Y tế"]})
        pred[q["id"]] = out
    return pred


@pytest.mark.parametrize("seed", [1, 2])
def test_search_scores_the_same(yardstick, tmp_path, seed):
    pred = tmp_path / "search.json"
    pred.write_text(json.dumps(_search_predictions(random.Random(seed)), ensure_ascii=False), "utf-8")
    q, gold = need("eval/queries.json"), need("eval/gold")
    for k in (3, 10):
        ours = search_report(q, gold, pred, k=k)
        assert ours == yardstick.search_report(str(q), str(gold), str(pred), k=k)
    assert 0 < ours[0]["recall@10"] < 1


def _link_predictions(rnd):
    """Gold clusters with members dropped, two clusters merged, strays added."""
    links = json.loads(need("eval/links.json").read_text("utf-8"))
    gold = {p.stem: json.loads(p.read_text("utf-8")) for p in files("eval/gold", "*.json")}
    text = {(s, t["id"]): t["text"] for s, g in gold.items() for t in g["tasks"]}
    pool = list(text)
    clusters = []
    for c in links:
        members = [(m["source"], m["task"]) for m in c["tasks"] if rnd.random() < 0.8]
        members += rnd.sample(pool, 1)
        clusters.append(members)
    clusters[0] += clusters.pop()
    return [[{"source": s, "text": text[(s, t)]} for s, t in c] for c in clusters]


@pytest.mark.parametrize("seed", [1, 2])
def test_links_score_the_same(yardstick, tmp_path, seed):
    pred = tmp_path / "links.json"
    pred.write_text(json.dumps(_link_predictions(random.Random(seed)), ensure_ascii=False), "utf-8")
    links, gold = need("eval/links.json"), need("eval/gold")
    ours = links_report(links, gold, pred)
    assert ours == yardstick.links_report(str(links), str(gold), str(pred))
    assert 0 < ours[0]["link_f1"] < 1


def test_cli_prints_what_the_yardstick_prints(yardstick, seed_records, tmp_path, capsys):
    pred = _jsonl(tmp_path, _damaged(seed_records, 7))
    gold = str(need("eval/gold"))
    for flag in ([], ["--json"]):
        assert kehoach_main(["eval", "extract", gold, str(pred), *flag]) == 0
        ours = capsys.readouterr().out
        assert yardstick.main(["extract", gold, str(pred), *flag]) == 0
        assert ours == capsys.readouterr().out
    summary = json.loads(ours)["summary"]
    assert set(summary) >= {"task_f1", "lead_f1", "ref_f1", "overall"}


def test_matching_rules_of_the_spec():
    assert fold_text("Đề án “Sở KH&ĐT”") == "de an so kh&dt"
    assert body_match("UBND tỉnh Tuyên Quang", "Ủy ban nhân dân")
    assert body_match("Sở TT&TT", "Sở Thông tin và Truyền thông tỉnh Tây Ninh")
    assert body_match("Ban Thường vụ Tỉnh ủy", "Tỉnh ủy Quảng Trị")
    assert not body_match("Sở Nội vụ", "Sở Tài chính")
    assert ref_key({"symbol": "641/QĐ-BNV"}) == "641QDBNV"
    assert ref_key({"symbol": "QĐ-TTg", "type": "Quyết định", "number": "28", "date": "2021-10-01"}) == \
        "quyet dinh|28|2021"
    assert ref_key({"symbol": None, "number": None}) is None


# ------------------------------------------------------------------ the checkout stands alone

REPO = Path(__file__).resolve().parents[1]
# an absolute path (system folders aside), the shared folder by its place, or the parent shared folder as a quoted path in code;
# only kehoach/eval/data.py (not scanned) knows where the shared folder may lie
OUTSIDE = re.compile(r"""Path\(\s*["']/(?!usr/|proc/|dev/)|["']/work/|["']\.\./shared|parent\s*/\s*["']shared["']""")


def test_no_test_benchmark_or_script_refers_outside_the_checkout():
    found = []
    for folder in ("tests", "benchmarks", "scripts"):
        for p in sorted((REPO / folder).rglob("*.py")):
            if "data" in p.relative_to(REPO).parts[:2]:
                continue                                   # vendored data (the yardstick's own docstring)
            for i, line in enumerate(p.read_text("utf-8").splitlines(), 1):
                if OUTSIDE.search(line) and "OUTSIDE" not in line:
                    found.append(f"{p.relative_to(REPO)}:{i}: {line.strip()}")
    assert not found, "\n".join(found)


def test_missing_data_fails_naming_it():
    with pytest.raises(pytest.fail.Exception, match=r"test data missing: .*no_such_folder"):
        need("no_such_folder")
    with pytest.raises(pytest.fail.Exception, match=r"no \*\.nothing in .*eval"):
        files("eval", "*.nothing")


def test_shared_dir_is_the_flag_then_the_environment_then_beside_then_vendored(monkeypatch, tmp_path):
    from kehoach.eval import data
    monkeypatch.setenv("KEHOACH_SHARED", str(tmp_path / "env"))
    assert data.shared_dir(tmp_path / "flag") == tmp_path / "flag"
    assert data.shared_dir() == tmp_path / "env"
    monkeypatch.delenv("KEHOACH_SHARED")
    monkeypatch.setattr(data, "PROJECT_ROOT", tmp_path / "main")
    monkeypatch.setattr(data, "VENDORED", tmp_path / "main" / "tests" / "data" / "shared")
    assert data.shared_dir() == tmp_path / "main" / "tests" / "data" / "shared"
    (tmp_path / "shared" / "eval").mkdir(parents=True)
    assert data.shared_dir() == tmp_path / "shared"

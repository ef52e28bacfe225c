"""The columnar search index: records, filters, BM25 fields and vectors saved as arrays and
memory-mapped on load; a batch of new tasks appended as a segment instead of a rebuild.
On the gold records of the seeds and the vendored real web plans."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from kehoach.models import Extraction
from kehoach.search.dense import DenseIndex
from kehoach.search.hybrid import Filters, SearchIndex, docs_from_extractions
from kehoach.search.lexical import BlobVocab, LexicalIndex, syllable_segmenter
from tests.shared import files, need

QUERIES = ["cải cách hành chính", "chuyển đổi số", "thanh toan truc tuyen", "phòng chống thiên tai",
           "ai chủ trì cải cách thủ tục", "ngân sách nhà nước"]


@pytest.fixture(scope="module")
def gold_docs():
    exs = [(i, Extraction.from_dict(json.loads(p.read_text("utf-8"))))
           for i, p in enumerate(files("eval/gold", "*.json") + files("eval/gold-real", "*.json"), 1)]
    return docs_from_extractions(exs)


def test_saved_index_loads_memory_mapped_and_answers_the_same(gold_docs, tmp_path):
    built = SearchIndex.build(gold_docs, words=syllable_segmenter)
    built.save(tmp_path)
    back = SearchIndex.load(tmp_path)
    assert isinstance(back.lexical.fields["syl"].docs, np.memmap)          # not read into Python objects
    assert len(back.docs) == len(gold_docs) > 300
    for i in (0, 57, len(gold_docs) - 1):
        assert back.docs[i].to_dict() == gold_docs[i].to_dict()
    for q in QUERIES:
        a = [h.doc.key for h in built.search(q, limit=10, mode="lexical").hits]
        b = [h.doc.key for h in back.search(q, limit=10, mode="lexical").hits]
        assert a == b and a, q
    for f in (Filters(province="Tuyên Quang"), Filters(owner="Sở Nội vụ"), Filters(deadline_before="2025-12-31"),
              Filters(type="Chỉ thị")):
        m1, m2 = built.table.mask(f), back.table.mask(f)
        assert m1.any() and np.array_equal(m1, m2), f
        assert [d.key for d in back.select(f)] == [d.key for d, ok in zip(gold_docs, m1) if ok]


def test_blob_vocabulary_finds_every_term_and_nothing_else(gold_docs):
    idx = LexicalIndex.build([d.text for d in gold_docs], syllable_segmenter)
    vocab = idx.fields["bi"].vocab
    blob = BlobVocab.from_terms(sorted(vocab, key=vocab.get))
    assert len(blob) == len(vocab) > 1000
    assert all(blob.get(t) == i for t, i in vocab.items())
    assert blob.get("không có từ này") is None and "zzz qqq" not in blob
    assert dict(blob.items()) == vocab


def test_an_appended_segment_scores_like_one_index(gold_docs):
    """BM25 over two segments uses the idf of both: equal to one index up to the length
    normalisation of the first segment's average."""
    half = len(gold_docs) // 2
    one = LexicalIndex.build([d.text for d in gold_docs], syllable_segmenter)
    two = LexicalIndex.build([d.text for d in gold_docs[:half]], syllable_segmenter).append(
        [d.text for d in gold_docs[half:]], syllable_segmenter)
    assert len(two.segments) == 2 and two.n_docs == one.n_docs
    for q in QUERIES:
        a, b = one.scores(q), two.scores(q)
        assert np.array_equal(a > 0, b > 0), q
        top_a, top_b = set(np.argsort(-a)[:10]), set(np.argsort(-b)[:10])
        assert len(top_a & top_b) >= 8, q


def test_compressed_vectors_rank_like_exact_ones_and_honour_masks():
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((40, 384)).astype(np.float32)
    v = centers[rng.integers(0, 40, 5000)] + 0.6 * rng.standard_normal((5000, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    exact, half = DenseIndex(v, compress=False), DenseIndex(v, compress=True)
    assert half.compressed and not exact.compressed and half.nbytes() * 2 == exact.nbytes()
    overlap = []
    for q in v[rng.integers(0, 5000, 50)]:
        a, _ = exact.search(q, 10)
        b, _ = half.search(q, 10)
        overlap.append(len(set(a) & set(b)) / 10)
    assert np.mean(overlap) >= 0.98
    mask = np.zeros(5000, bool)
    mask[rng.choice(5000, 300, replace=False)] = True
    for index in (exact, half):
        got, _ = index.search(v[0], 20, mask)
        assert len(got) == 20 and mask[got].all()
    both = DenseIndex(v[:3000], compress=False).append(v[3000:])
    for q in v[[1, 3500, 4999]]:
        a, sa = exact.search(q, 10)
        b, sb = both.search(q, 10)
        assert a.tolist() == b.tolist() and np.allclose(sa, sb, atol=1e-5)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from kehoach.corpus.store import Corpus
    h = tmp_path_factory.mktemp("index_home")
    with Corpus(h) as c:
        rep = c.add([str(need("seeds"))], progress=False)
    assert len(rep.added) == 5, rep.summary()
    return h


def test_adding_plans_extends_the_saved_index_instead_of_rebuilding_it(home, tmp_path):
    from kehoach.corpus.store import Corpus
    from kehoach.search.service import open_index
    first = open_index(home, embedder=None, dense=False)
    n_seeds = len(first.docs)
    new = [str(p) for p in files("real/web", "*.txt")[:2]]
    with Corpus(home) as c:
        c.add(new, progress=False)
    grown = open_index(home, embedder=None, dense=False)
    meta = json.loads((home / "search" / "meta.json").read_text("utf-8"))
    assert len(meta["segments"]) == 2 and len(grown.docs) > n_seeds
    # the same records as a rebuild, and the same answers near the top
    other = tmp_path / "copy"
    shutil.copytree(home, other)
    rebuilt = open_index(other, embedder=None, dense=False, rebuild=True)
    assert sorted(grown.keys()) == sorted(rebuilt.keys())
    for q in QUERIES + ["phòng, chống thiên tai", "khắc phục hậu quả"]:
        a = [h.doc.key for h in grown.search(q, limit=5, mode="lexical").hits]
        b = [h.doc.key for h in rebuilt.search(q, limit=5, mode="lexical").hits]
        assert a[:1] == b[:1] and len(set(a) & set(b)) >= 4, q
    again = open_index(home, embedder=None, dense=False)           # unchanged corpus: loaded as saved
    assert again.keys() == grown.keys()


def _tree(folder):
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*")}


def test_an_add_with_its_hooks_leaves_the_index_of_the_new_plans_and_a_search_writes_nothing(home, tmp_path,
                                                                                             monkeypatch):
    """The search index is built or extended by the add's change hook: right after the add its
    files cover the new plans at the new generation; a search opens them and writes nothing."""
    from kehoach.corpus.cli import CHANGE_HOOKS, attach_hooks
    from kehoach.corpus.store import Corpus
    from kehoach.search.service import open_index, read_manifest
    monkeypatch.setenv("KEHOACH_SEARCH_DENSE", "0")
    assert "kehoach.search.service" in CHANGE_HOOKS
    h = tmp_path / "h"
    shutil.copytree(home, h)
    with Corpus(h) as c:
        attach_hooks(c, ["kehoach.search.service"])
        c.add([str(p) for p in files("real/web", "*.txt")[:1]], progress=False)
        c.add([str(p) for p in files("real/web", "*.txt")[1:3]], progress=False)
        gen, plans = c.generation(), {str(p.id) for p in c.plans()}
        keys = sorted(t.key for t in c.tasks())
    meta = read_manifest(h / "search")
    assert meta["generation"] == gen and set(meta["plans"]) == plans
    assert len(meta["segments"]) >= 2                # appended, not rebuilt
    before = _tree(h / "search")
    idx = open_index(h, embedder=None, dense=False)
    assert sorted(idx.keys()) == keys
    assert idx.search("chuyển đổi số", mode="lexical").hits
    assert _tree(h / "search") == before


def test_a_replaced_plan_is_reindexed_and_unchanged_plans_are_never_reread(home, tmp_path, monkeypatch):
    """The fingerprint of each plan decides: a plan stored again with other records gives a rebuild
    with its new tasks; an append reads only the new plans' tasks from the store."""
    from kehoach.corpus.store import Corpus
    from kehoach.search import service
    from kehoach.search.fixtures import load_records, store_records
    h = tmp_path / "h"
    shutil.copytree(home, h)
    with Corpus(h) as c:
        service.refresh(h, c)
        first = {p.id for p in c.plans()}
        asked = []
        real = service.docs_from_corpus
        monkeypatch.setattr(service, "docs_from_corpus", lambda corpus, ids=None: asked.append(ids) or real(corpus, ids))
        records = load_records(files("eval/gold", "*.json")[:1], need("seeds"))
        records[0][0].source = "other/" + records[0][0].source
        records[0][0].sha256 = "1" * 64                  # not the seed's content: a new plan
        new = store_records(c, records)
        idx = service.refresh(h, c)
        assert asked == [new] and not set(new) & first
        assert any(k.startswith(f"{new[0]}:") for k in idx.keys())
        ext, text = records[0]
        ext.tasks = ext.tasks[:3]
        ext.sha256 = "0" * 64
        store_records(c, [(ext, text)])             # the same source again: replaced, same id
        asked.clear()
        idx = service.refresh(h, c)
        assert asked == [None]                       # rebuilt
        assert len([k for k in idx.keys() if k.startswith(f"{new[0]}:")]) == 3

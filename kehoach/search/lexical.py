"""BM25 over task texts, bm25s-style: the whole score matrix is computed once at
build time (a sparse term x document matrix of BM25 weights); a query is then a
sum of a few matrix rows and a top-k partition.

Three fields, summed with weights:

* ``word``   Vietnamese words with diacritics ("thủ_tục", "hành_chính"), from a
             word segmenter at index time; queries are segmented by longest match
             against the index's own vocabulary (no segmenter at query time);
* ``syl``    diacritic-folded syllables ("thu", "tuc") — queries typed without
             diacritics still match;
* ``bi``     diacritic-folded syllable bigrams ("thu tuc") — phrase precision.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from kehoach.search.text import (bigrams, expand_abbreviations, fold, folded_tokens, restore_diacritics,
                                 segment_query, tokens)

FIELD_WEIGHTS = {"word": 1.0, "syl": 0.6, "bi": 0.8}
FIELD_WEIGHTS_FOLDED_QUERY = {"word": 0.0, "syl": 1.0, "bi": 1.0}


@dataclass
class BM25Field:
    """One field's precomputed BM25 weights: row t of the CSR (indptr/docs/weights) lists
    the documents that hold term t with their BM25 contribution."""
    vocab: dict[str, int]
    indptr: np.ndarray      # int64, len(vocab) + 1
    docs: np.ndarray        # int32
    weights: np.ndarray     # float32
    n_docs: int

    @classmethod
    def build(cls, docs_terms: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> "BM25Field":
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.zeros(len(docs_terms), np.float32)
        for d, terms in enumerate(docs_terms):
            lengths[d] = len(terms)
            counts: dict[int, int] = {}
            for t in terms:
                tid = vocab.setdefault(t, len(vocab))
                counts[tid] = counts.get(tid, 0) + 1
            rows.extend(counts.keys())
            cols.extend([d] * len(counts))
            tfs.extend(counts.values())
        n = len(docs_terms)
        rows_a = np.asarray(rows, np.int64)
        cols_a = np.asarray(cols, np.int32)
        tf = np.asarray(tfs, np.float32)
        df = np.bincount(rows_a, minlength=len(vocab)).astype(np.float32)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)   # Lucene's non-negative idf
        avgdl = float(lengths.mean()) if n else 1.0
        norm = k1 * (1.0 - b + b * lengths[cols_a] / max(avgdl, 1e-9))
        w = idf[rows_a] * tf * (k1 + 1.0) / (tf + norm)
        order = np.lexsort((cols_a, rows_a))
        indptr = np.zeros(len(vocab) + 1, np.int64)
        np.cumsum(np.bincount(rows_a, minlength=len(vocab)), out=indptr[1:])
        return cls(vocab, indptr, cols_a[order], w[order].astype(np.float32), n)

    def scores(self, terms: Sequence[str], out: Optional[np.ndarray] = None, weight: float = 1.0) -> np.ndarray:
        """Add ``weight`` x BM25 of the query ``terms`` (each counted once) to ``out``."""
        if out is None:
            out = np.zeros(self.n_docs, np.float32)
        ids = {self.vocab[t] for t in terms if t in self.vocab}
        if not ids:
            return out
        parts_d = [self.docs[self.indptr[i]:self.indptr[i + 1]] for i in ids]
        parts_w = [self.weights[self.indptr[i]:self.indptr[i + 1]] for i in ids]
        d = np.concatenate(parts_d)
        w = np.concatenate(parts_w)
        if len(d) * 8 < self.n_docs:      # few postings: scatter-add
            np.add.at(out, d, w * weight)
        else:
            out += weight * np.bincount(d, weights=w, minlength=self.n_docs).astype(np.float32)
        return out

    # persistence: arrays in an npz, the vocabulary as JSON (no pickle)
    def arrays(self, prefix: str) -> dict:
        return {f"{prefix}_indptr": self.indptr, f"{prefix}_docs": self.docs, f"{prefix}_weights": self.weights}

    @classmethod
    def from_arrays(cls, prefix: str, arrays, vocab: list[str], n_docs: int) -> "BM25Field":
        return cls({t: i for i, t in enumerate(vocab)}, arrays[f"{prefix}_indptr"], arrays[f"{prefix}_docs"],
                   arrays[f"{prefix}_weights"], n_docs)


def default_word_segmenter() -> Callable[[str], list[str]]:
    """Vietnamese word segmentation for documents: ``kehoach.corpus.segment`` when present,
    else underthesea. Words are lower-cased, syllables joined by "_"."""
    try:
        from kehoach.corpus import segment as seg  # the corpus engineer's shared segmenter
        fn = getattr(seg, "words", None) or getattr(seg, "segment", None)
    except Exception:
        fn = None
    if fn is None:
        from underthesea import word_tokenize
        fn = word_tokenize

    def words(text: str) -> list[str]:
        out = []
        for w in fn(text):
            w = w.strip().lower().replace(" ", "_")
            if w and any(c.isalnum() for c in w):
                out.append(w)
        return out
    return words


def syllable_segmenter(text: str) -> list[str]:
    """No-dependency fallback (and the benchmark's): syllables as words."""
    return tokens(text)


def doc_fields(text: str, words: Callable[[str], list[str]]) -> dict[str, list[str]]:
    text = expand_abbreviations(text)
    syl = folded_tokens(text)
    return {"word": words(text), "syl": syl, "bi": bigrams(syl)}


@dataclass
class LexicalIndex:
    fields: dict[str, BM25Field]
    n_docs: int

    @classmethod
    def build(cls, texts: Sequence[str], words: Optional[Callable[[str], list[str]]] = None) -> "LexicalIndex":
        words = words or default_word_segmenter()
        per_doc = [doc_fields(t, words) for t in texts]
        fields = {name: BM25Field.build([d[name] for d in per_doc]) for name in FIELD_WEIGHTS}
        return cls(fields, len(texts))

    def query_terms(self, query: str, folded: Optional[bool] = None) -> dict[str, list[str]]:
        """The query's terms per field, abbreviations expanded like the documents'."""
        query = expand_abbreviations(query)
        syl = folded_tokens(query)
        if folded is None:
            folded = fold(query) == query.lower()
        word = [] if folded else segment_query(tokens(query), self.fields["word"].vocab)
        return {"word": word, "syl": syl, "bi": bigrams(syl)}

    def folded_words(self) -> dict[str, str]:
        """folded word -> its most frequent written form in the corpus (for diacritic restoration)."""
        if getattr(self, "_folded_words", None) is None:
            f = self.fields["word"]
            df = np.diff(f.indptr)
            best: dict[str, tuple[int, str]] = {}
            for w, i in f.vocab.items():
                k = fold(w)
                if k != w or k not in best:  # an unaccented spelling never beats an accented one of equal df
                    c = int(df[i])
                    if k not in best or c > best[k][0]:
                        best[k] = (c, w)
            self._folded_words = {k: w for k, (c, w) in best.items()}
        return self._folded_words

    def restore(self, query: str) -> Optional[str]:
        """The query with diacritics restored from the corpus vocabulary, or None."""
        return restore_diacritics(folded_tokens(query), self.folded_words())

    def scores(self, query: str, folded: Optional[bool] = None) -> np.ndarray:
        terms = self.query_terms(query, folded)
        weights = FIELD_WEIGHTS_FOLDED_QUERY if not terms["word"] else FIELD_WEIGHTS
        out = np.zeros(self.n_docs, np.float32)
        for name, f in self.fields.items():
            if weights[name]:
                f.scores(terms[name], out, weights[name])
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for name, f in self.fields.items():
            arrays.update(f.arrays(name))
        np.savez(folder / "lexical.npz", **arrays)
        vocab = {name: sorted(f.vocab, key=f.vocab.get) for name, f in self.fields.items()}
        (folder / "lexical.json").write_text(json.dumps({"n_docs": self.n_docs, "vocab": vocab}, ensure_ascii=False),
                                             "utf-8")

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        meta = json.loads((folder / "lexical.json").read_text("utf-8"))
        arrays = np.load(folder / "lexical.npz")
        n = int(meta["n_docs"])
        fields = {name: BM25Field.from_arrays(name, arrays, vocab, n) for name, vocab in meta["vocab"].items()}
        return cls(fields, n)


def top_k(scores: np.ndarray, k: int, mask: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k best positive scores (best first), within ``mask``."""
    s = scores if mask is None else np.where(mask, scores, 0.0)
    nz = np.flatnonzero(s > 0)
    if len(nz) == 0:
        return nz, s[nz]
    if len(nz) > k:
        part = np.argpartition(-s[nz], k - 1)[:k]
        nz = nz[part]
    order = np.argsort(-s[nz], kind="stable")
    idx = nz[order]
    return idx, s[idx]

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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from kehoach.search.text import (bigrams, expand_abbreviations, fold, folded_tokens, restore_diacritics,
                                 segment_query, tokens)

FIELD_WEIGHTS = {"word": 1.0, "syl": 0.6, "bi": 0.8}
FIELD_WEIGHTS_FOLDED_QUERY = {"word": 0.0, "syl": 1.0, "bi": 1.0}


class BlobVocab:
    """A term -> id map stored as sorted UTF-8 bytes (one blob + offsets + ids), so a saved
    vocabulary of millions of terms is memory-mapped instead of rebuilt as a Python dict.
    Lookup is a binary search (about 20 steps at a million terms)."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, ids: np.ndarray):
        # plain ndarray views of the memory maps: a lookup indexes ~20 times per term, and np.memmap's
        # __getitem__ (a Python method) costs more than the binary search itself
        self.blob, self.offsets, self.ids = np.asarray(blob), np.asarray(offsets), np.asarray(ids)
        self._n = len(ids)

    @classmethod
    def from_terms(cls, terms: Sequence[str]) -> "BlobVocab":
        """``terms[i]`` has id ``i``."""
        enc = sorted(((t.encode("utf-8"), i) for i, t in enumerate(terms)), key=lambda x: x[0])
        lens = np.fromiter((len(b) for b, _ in enc), np.int64, len(enc))
        offsets = np.zeros(len(enc) + 1, np.int64)
        np.cumsum(lens, out=offsets[1:])
        blob = np.frombuffer(b"".join(b for b, _ in enc), np.uint8)
        return cls(blob, offsets, np.fromiter((i for _, i in enc), np.int32, len(enc)))

    def _term(self, pos: int) -> bytes:
        return self.blob[self.offsets[pos]:self.offsets[pos + 1]].tobytes()

    def get(self, term: str, default=None):
        key = term.encode("utf-8")
        lo, hi = 0, self._n
        while lo < hi:
            mid = (lo + hi) // 2
            t = self._term(mid)
            if t < key:
                lo = mid + 1
            elif t > key:
                hi = mid
            else:
                return int(self.ids[mid])
        return default

    def __contains__(self, term) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __getitem__(self, term: str) -> int:
        i = self.get(term)
        if i is None:
            raise KeyError(term)
        return i

    def __len__(self) -> int:
        return self._n

    def items(self):
        for pos in range(self._n):
            yield self._term(pos).decode("utf-8"), int(self.ids[pos])

    def __iter__(self):
        for t, _ in self.items():
            yield t

    def terms_by_id(self) -> list[str]:
        out = [""] * self._n
        for t, i in self.items():
            out[i] = t
        return out


class _FieldBuilder:
    """Postings gathered document by document into compact arrays (every 50k documents), so
    building a million-task field never holds a Python object per posting."""

    CHUNK = 50_000

    def __init__(self):
        self.vocab: dict[str, int] = {}
        self._rows: list[int] = []
        self._cols: list[int] = []
        self._tfs: list[int] = []
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._lengths: list[int] = []

    def add(self, terms: Sequence[str]) -> None:
        d = len(self._lengths)
        self._lengths.append(len(terms))
        counts: dict[int, int] = {}
        vocab = self.vocab
        for t in terms:
            tid = vocab.get(t)
            if tid is None:
                tid = vocab[t] = len(vocab)
            counts[tid] = counts.get(tid, 0) + 1
        self._rows.extend(counts.keys())
        self._cols.extend([d] * len(counts))
        self._tfs.extend(counts.values())
        if len(self._lengths) % self.CHUNK == 0:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._parts.append((np.asarray(self._rows, np.int32), np.asarray(self._cols, np.int32),
                                np.asarray(self._tfs, np.float32)))
        self._rows, self._cols, self._tfs = [], [], []

    def finish(self, k1: float, b: float, avgdl: Optional[float]) -> "BM25Field":
        self._flush()
        n = len(self._lengths)
        lengths = np.asarray(self._lengths, np.float32)
        if self._parts:
            rows_a = np.concatenate([p[0] for p in self._parts])
            cols_a = np.concatenate([p[1] for p in self._parts])
            tf = np.concatenate([p[2] for p in self._parts])
        else:
            rows_a, cols_a, tf = np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
        self._parts = []
        df = np.bincount(rows_a, minlength=len(self.vocab)).astype(np.int32)
        if avgdl is None:
            avgdl = float(lengths.mean()) if n else 1.0
        w = tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * lengths[cols_a] / max(avgdl, 1e-9)))
        order = np.argsort(rows_a, kind="stable")      # documents arrive in order: stable keeps them sorted
        indptr = np.zeros(len(self.vocab) + 1, np.int64)
        np.cumsum(df, out=indptr[1:])
        return BM25Field(self.vocab, indptr, cols_a[order], w[order].astype(np.float32), df, n,
                         float(lengths.sum()))


def bm25_idf(n_docs: int, df: np.ndarray) -> np.ndarray:
    """Lucene's non-negative idf."""
    df = np.asarray(df, np.float32)
    return np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)


@dataclass
class BM25Field:
    """One field of one segment: row t of the CSR (indptr/docs/tfn) lists the documents that
    hold term t with the length-normalised term-frequency part of BM25,
    ``tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl))``; a query multiplies it by the idf of
    the term over every segment (``df`` is this segment's document frequency per term), so
    segments added later score like one index."""
    vocab: "dict[str, int] | BlobVocab"
    indptr: np.ndarray      # int64, len(vocab) + 1
    docs: np.ndarray        # int32, local to the segment
    tfn: np.ndarray         # float32
    df: np.ndarray          # int32 per term
    n_docs: int
    length_sum: float = 0.0

    @classmethod
    def build(cls, docs_terms: Iterable[Sequence[str]], k1: float = 1.2, b: float = 0.75,
              avgdl: Optional[float] = None) -> "BM25Field":
        """``avgdl``: the average length to normalise by (default: this segment's own)."""
        acc = _FieldBuilder()
        for terms in docs_terms:
            acc.add(terms)
        return acc.finish(k1, b, avgdl)

    def ids(self, terms: Sequence[str]) -> dict[str, int]:
        """The query terms this segment knows, each once, with their ids."""
        out = {}
        for t in terms:
            if t not in out:
                i = self.vocab.get(t)
                if i is not None:
                    out[t] = i
        return out

    def postings(self, ids: dict[str, int], idf: dict[str, float], weight: float = 1.0):
        """(local document ids, BM25 contributions) of the terms ``ids`` (term -> id here)."""
        for t, i in ids.items():
            a, b = int(self.indptr[i]), int(self.indptr[i + 1])
            yield self.docs[a:b], self.tfn[a:b] * np.float32(idf[t] * weight)

    def add_scores(self, ids: dict[str, int], idf: dict[str, float], out: np.ndarray, weight: float = 1.0) -> None:
        """Add ``weight`` x BM25 of the terms ``ids`` (term -> id here) to ``out`` (this segment's slice), list
        by list by scatter-add: numpy >= 1.25's ``ufunc.at`` is about 3x faster than a weighted ``np.bincount``
        (which converts every posting to int64/float64 first) at every size, 21 against 62 ms for 5M postings
        into 1M documents."""
        for d, w in self.postings(ids, idf, weight):
            np.add.at(out, d, w)

    def scores(self, terms: Sequence[str], out: Optional[np.ndarray] = None, weight: float = 1.0) -> np.ndarray:
        """BM25 of the query ``terms`` (each counted once) over this field alone, added to ``out``."""
        if out is None:
            out = np.zeros(self.n_docs, np.float32)
        ids = self.ids(terms)
        idf = {t: float(bm25_idf(self.n_docs, self.df[i:i + 1])[0]) for t, i in ids.items()}
        self.add_scores(ids, idf, out, weight)
        return out

    # persistence: one .npy per array (memory-mapped on load), the vocabulary as a sorted blob (no pickle)
    def save(self, folder: Path, prefix: str) -> None:
        vocab = self.vocab if isinstance(self.vocab, BlobVocab) else \
            BlobVocab.from_terms(sorted(self.vocab, key=self.vocab.get))
        for name, arr in (("indptr", self.indptr), ("docs", self.docs), ("tfn", self.tfn), ("df", self.df),
                          ("vocab_blob", vocab.blob), ("vocab_offsets", vocab.offsets), ("vocab_ids", vocab.ids)):
            np.save(folder / f"{prefix}_{name}.npy", np.asarray(arr))

    @classmethod
    def load(cls, folder: Path, prefix: str, n_docs: int, length_sum: float, mmap: bool = True) -> "BM25Field":
        mode = "r" if mmap else None
        a = {name: np.load(folder / f"{prefix}_{name}.npy", mmap_mode=mode)
             for name in ("indptr", "docs", "tfn", "df", "vocab_blob", "vocab_offsets", "vocab_ids")}
        return cls(BlobVocab(a["vocab_blob"], a["vocab_offsets"], a["vocab_ids"]), a["indptr"], a["docs"],
                   a["tfn"], a["df"], n_docs, length_sum)


def default_word_segmenter() -> Callable[[str], list[str]]:
    """Vietnamese word segmentation for documents: ``kehoach.corpus.segment`` when present,
    else underthesea. Words are lower-cased, syllables joined by "_"."""
    try:
        from kehoach.corpus import segment as seg  # the corpus engineer's shared segmenter
        fn = getattr(seg, "words", None) or getattr(seg, "segment", None)
    except Exception:
        fn = None
    if fn is None:
        from kehoach.extract.nlp import import_underthesea
        fn = import_underthesea().word_tokenize

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
class LexSegment:
    """The BM25 fields of a run of consecutive documents, ``offset`` .. ``offset + n_docs``."""
    fields: dict[str, BM25Field]
    offset: int
    n_docs: int

    # one segment in a folder of its own (``SearchIndex`` keeps each segment's files apart, so
    # appending a batch writes the batch's files and never the corpus's)
    def save(self, folder: Path) -> None:
        for name, f in self.fields.items():
            f.save(folder, f"lex_{name}")
        (folder / "lexical.json").write_text(json.dumps(
            {"n_docs": self.n_docs, "length_sum": {name: f.length_sum for name, f in self.fields.items()}}), "utf-8")

    @classmethod
    def load(cls, folder: Path, offset: int, mmap: bool = True) -> "LexSegment":
        m = json.loads((folder / "lexical.json").read_text("utf-8"))
        n = int(m["n_docs"])
        fields = {name: BM25Field.load(folder, f"lex_{name}", n, float(ls), mmap) for name, ls in m["length_sum"].items()}
        return cls(fields, offset, n)


class _AnyVocab:
    """Membership over the word vocabularies of every segment (query segmentation)."""

    def __init__(self, vocabs):
        self.vocabs = vocabs

    def __contains__(self, term) -> bool:
        return any(term in v for v in self.vocabs)


class LexicalIndex:
    """BM25 over a list of segments: the first is built with the index, later ones hold the
    documents added since (normalised with the index's average lengths), so adding a batch
    costs the batch, not the corpus. Scores use the idf over every segment."""

    def __init__(self, segments: list[LexSegment]):
        self.segments = segments
        self.n_docs = sum(s.n_docs for s in segments)

    @property
    def fields(self) -> dict[str, BM25Field]:
        """The first segment's fields (the whole index when it has one segment)."""
        return self.segments[0].fields

    @classmethod
    def build(cls, texts: Sequence[str], words: Optional[Callable[[str], list[str]]] = None) -> "LexicalIndex":
        return cls([cls._segment(texts, words, 0, None)])

    @staticmethod
    def _segment(texts, words, offset: int, avgdl: Optional[dict]) -> LexSegment:
        words = words or default_word_segmenter()
        acc = {name: _FieldBuilder() for name in FIELD_WEIGHTS}
        n = 0
        for t in texts:
            for name, terms in doc_fields(t, words).items():
                acc[name].add(terms)
            n += 1
        fields = {name: a.finish(1.2, 0.75, (avgdl or {}).get(name)) for name, a in acc.items()}
        return LexSegment(fields, offset, n)

    def avgdl(self) -> dict[str, float]:
        n = max(self.n_docs, 1)
        return {name: sum(s.fields[name].length_sum for s in self.segments) / n or 1.0 for name in FIELD_WEIGHTS}

    def append(self, texts: Sequence[str], words: Optional[Callable[[str], list[str]]] = None) -> "LexicalIndex":
        """A new index: these segments plus one holding ``texts`` (numbered after the others)."""
        if not texts:
            return self
        seg = self._segment(texts, words, self.n_docs, self.avgdl() if self.n_docs else None)
        return LexicalIndex(self.segments + [seg])

    def word_vocabulary(self):
        vocabs = [s.fields["word"].vocab for s in self.segments]
        return vocabs[0] if len(vocabs) == 1 else _AnyVocab(vocabs)

    def query_terms(self, query: str, folded: Optional[bool] = None) -> dict[str, list[str]]:
        """The query's terms per field, abbreviations expanded like the documents'."""
        query = expand_abbreviations(query)
        syl = folded_tokens(query)
        if folded is None:
            folded = fold(query) == query.lower()
        word = [] if folded else segment_query(tokens(query), self.word_vocabulary())
        return {"word": word, "syl": syl, "bi": bigrams(syl)}

    def folded_words(self) -> dict[str, str]:
        """folded word -> its most frequent written form in the corpus (for diacritic restoration)."""
        if getattr(self, "_folded_words", None) is None:
            counts: dict[str, int] = {}
            for seg in self.segments:
                f = seg.fields["word"]
                df = f.df
                for w, i in f.vocab.items():
                    counts[w] = counts.get(w, 0) + int(df[i])
            best: dict[str, tuple[int, str]] = {}
            for w, c in counts.items():
                k = fold(w)
                if k != w or k not in best:  # an unaccented spelling never beats an accented one of equal df
                    if k not in best or c > best[k][0]:
                        best[k] = (c, w)
            self._folded_words = {k: w for k, (c, w) in best.items()}
        return self._folded_words

    def restore(self, query: str) -> Optional[str]:
        """The query with diacritics restored from the corpus vocabulary, or None."""
        return restore_diacritics(folded_tokens(query), self.folded_words())

    def scores(self, query: str, folded: Optional[bool] = None) -> np.ndarray:
        """BM25 of ``query`` for every document: the postings of every field and segment added into one
        float32 array, each segment into its own slice (``BM25Field.add_scores``), with the idf of the whole."""
        terms = self.query_terms(query, folded)
        weights = FIELD_WEIGHTS_FOLDED_QUERY if not terms["word"] else FIELD_WEIGHTS
        out = np.zeros(self.n_docs, np.float32)
        for name in FIELD_WEIGHTS:
            if not weights[name]:
                continue
            ids = [seg.fields[name].ids(terms[name]) for seg in self.segments]
            df: dict[str, int] = {}
            for seg, got in zip(self.segments, ids):
                for t, i in got.items():
                    df[t] = df.get(t, 0) + int(seg.fields[name].df[i])
            if not df:
                continue
            idf_a = bm25_idf(self.n_docs, np.fromiter(df.values(), np.float32, len(df)))
            idf = dict(zip(df.keys(), idf_a.tolist()))
            for seg, got in zip(self.segments, ids):
                seg.fields[name].add_scores(got, idf, out[seg.offset:seg.offset + seg.n_docs], weights[name])
        return out

    def nbytes(self) -> int:
        return sum(a.nbytes for s in self.segments for f in s.fields.values()
                   for a in (f.indptr, f.docs, f.tfn, f.df))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = []
        for k, seg in enumerate(self.segments):
            for name, f in seg.fields.items():
                f.save(folder, f"lex{k}_{name}")
            meta.append({"offset": seg.offset, "n_docs": seg.n_docs,
                         "length_sum": {name: f.length_sum for name, f in seg.fields.items()}})
        (folder / "lexical.json").write_text(json.dumps({"n_docs": self.n_docs, "segments": meta}), "utf-8")

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> "LexicalIndex":
        meta = json.loads((folder / "lexical.json").read_text("utf-8"))
        segs = []
        for k, m in enumerate(meta["segments"]):
            fields = {name: BM25Field.load(folder, f"lex{k}_{name}", int(m["n_docs"]), float(ls), mmap)
                      for name, ls in m["length_sum"].items()}
            segs.append(LexSegment(fields, int(m["offset"]), int(m["n_docs"])))
        return cls(segs)


SAMPLE_FROM = 65_536     # top_k: from this many scores on, a strided sample bounds the candidates first
SAMPLE_STEP = 16


def top_k(scores: np.ndarray, k: int, mask: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k best positive scores (best first), within ``mask``.

    Exact. Over many scores, the k-th best of every ``SAMPLE_STEP``-th score is a lower bound of the
    k-th best of all (a sample's values are some of the values), so only the scores at or above it can
    be among the k best: they are selected first, and the common query that touches most documents
    partitions a few thousand candidates instead of every document it touches."""
    s = scores if mask is None else np.where(mask, scores, 0.0)
    nz = None
    if k > 0 and len(s) >= SAMPLE_FROM and len(s) >= k * SAMPLE_STEP:
        sample = s[::SAMPLE_STEP]
        bound = np.partition(sample, len(sample) - k)[len(sample) - k]
        if bound > 0:
            nz = np.flatnonzero(s >= bound)
    if nz is None:
        nz = np.flatnonzero(s > 0)
    if len(nz) == 0:
        return nz, s[nz]
    if len(nz) > k:                  # the k-th best score; of the scores tied with it, the first documents
        vals = s[nz]
        kth = np.partition(vals, len(vals) - k)[len(vals) - k]
        above = nz[vals > kth]
        nz = np.concatenate([above, nz[vals == kth][:k - len(above)]])
    order = np.argsort(-s[nz], kind="stable")
    idx = nz[order]
    return idx, s[idx]

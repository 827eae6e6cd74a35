"""How close the attention score product comes to this machine's own matmul speed.

The score table S = Q Kᵀ / sqrt(d_k) is a thin product: (T, d_head) @ (d_head, T) does
T·T dot products of only d_head terms each, and writes a T×T result. BLAS is at its best
on large square products, which reuse every loaded value many times. The figure is the
fraction of that best that ``dotlab.scaling.scaled_scores`` reaches at T = 2,048 and
d_head = 64, next to a plain NumPy ``q @ k.T / sqrt(d)`` measured the same way.
"""

from __future__ import annotations

import math
import os

import numpy as np
from threadpoolctl import threadpool_limits

from dotlab.scaling import scaled_scores
from report import Figure, best_of, emit

T, D_HEAD, SQUARE = 2048, 64, 2048
THREADS = os.cpu_count() or 1


def main():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((SQUARE, SQUARE), dtype=np.float32)
    b = rng.standard_normal((SQUARE, SQUARE), dtype=np.float32)
    q = rng.standard_normal((T, D_HEAD), dtype=np.float32)
    k = rng.standard_normal((T, D_HEAD), dtype=np.float32)
    score_flops = 2 * T * T * D_HEAD
    with threadpool_limits(THREADS):
        peak = 2 * SQUARE**3 / best_of(lambda: a @ b, repeat=15, warmup=3)
        plain = score_flops / best_of(lambda: (q @ k.T) / math.sqrt(D_HEAD), repeat=15)
        ours = score_flops / best_of(lambda: scaled_scores(q, k), repeat=15)
    emit(Figure("score product", f"machine peak: {SQUARE}² float32 matmul, {THREADS} threads", peak / 1e9, "GFLOP/s",
                higher_is_better=True))
    emit(Figure("score product", f"scaled_scores at T={T}, d_head={D_HEAD}: share of peak", 100 * ours / peak, "%",
                peer="plain NumPy q @ k.T / sqrt(d)", peer_value=100 * plain / peak, target=">= 50 %",
                met=ours / peak >= 0.5, higher_is_better=True))


if __name__ == "__main__":
    main()

"""Chapter 4: why attention divides its scores by ``sqrt(d_k)``.

If the ``d_k`` components of a query ``q`` and a key ``k`` are independent, with mean 0
and variance 1, then ``q·k`` is a sum of ``d_k`` independent products, each with mean 0
and variance 1, so ``Var(q·k) = d_k``: the scores spread out like ``sqrt(d_k)``.
Softmax of widely spread scores is nearly one-hot, and a one-hot softmax passes almost
no gradient back. Dividing by ``sqrt(d_k)`` brings the variance back to 1 whatever
``d_k`` is (Vaswani et al. 2017, section 3.2.1, footnote 4).

(The often-quoted version "for random *unit* vectors" is a different statement: two
random directions in ``d`` dimensions have ``Var(q·k) = 1/d``, which shrinks.)

Shape vocabulary: ``d_k`` is the length of queries and keys; ``T_q`` queries and
``T_k`` keys; a score table is ``(T_q, T_k)``.

The module has three layers, like chapter 1's explorer: pure experiments that return
numbers (:func:`dot_product_variance`, :func:`saturation`, :func:`score_panel`), a
drawing function (:func:`draw_score_panel`, :class:`PanelPainter`), and a widget (:class:`ScoreExplorer`).
"""

from __future__ import annotations

import io
import math
import numbers
from dataclasses import dataclass

import numpy as np

from dotlab._validate import as_array
from dotlab.softmax import entropy, softmax


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive whole number")
    return int(value)


def _scale(scale, d: int) -> float:
    if scale is None:
        return 1.0 / math.sqrt(d)
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale):
        raise ValueError(f"scale={scale!r} must be a finite number (default 1/sqrt(d) = {1 / math.sqrt(d):.4g})")
    return float(scale)


def scaled_scores(q, k, scale: float | None = None) -> np.ndarray:
    """Every query's dot product with every key, divided by ``sqrt(d_k)``.

    ``S = Q Kᵀ / sqrt(d_k)``: entry ``[i, j]`` is ``q_i · k_j / sqrt(d_k)``.

    Parameters
    ----------
    q : array_like, shape (..., T_q, d_k)
    k : array_like, shape (..., T_k, d_k)
        Leading (batch, head) axes broadcast as in ``numpy.matmul``.
    scale : float, optional
        Multiplies the dot products; default ``1 / sqrt(d_k)``.

    Returns
    -------
    numpy.ndarray, shape (..., T_q, T_k)

    Raises
    ------
    ValueError
        If ``q`` or ``k`` is not at least 2-D, or their last axes differ.

    Examples
    --------
    >>> scaled_scores([[1.0, 2.0, 3.0, 4.0]], [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 1.0]])
    array([[0.5, 4.5]])
    """
    q, k = as_array(q, "q"), as_array(k, "k")
    for name, arr, rows in (("q", q, "T_q"), ("k", k, "T_k")):
        if arr.ndim < 2:
            raise ValueError(f"{name} must have shape (..., {rows}, d_k), but {name}.shape={arr.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q.shape={q.shape} and k.shape={k.shape} must match on the last axis (d_k): "
            "each score is a dot product of a query with a key"
        )
    # Scale the (T_q, d_k) queries rather than the (T_q, T_k) scores: the same numbers up
    # to rounding, without a second pass over the largest array in attention.
    return (q * q.dtype.type(_scale(scale, q.shape[-1]))) @ np.swapaxes(k, -1, -2)


def dot_product_samples(d: int, n_samples: int, *, unit: bool = False, rng=None) -> np.ndarray:
    """``n_samples`` dot products of independent random vector pairs in ``d`` dimensions.

    Components are independent standard normal (mean 0, variance 1). With ``unit=True``
    each vector is then divided by its length, which makes it a uniformly random
    direction (the normal distribution looks the same from every direction).

    Parameters
    ----------
    d, n_samples : int
    unit : bool, default False
    rng : numpy.random.Generator or int, optional
        A generator, or a seed for a new one.

    Returns
    -------
    numpy.ndarray, shape (n_samples,)

    Examples
    --------
    >>> dot_product_samples(64, 3, rng=0).shape
    (3,)
    """
    d, n_samples = _positive_int(d, "d"), _positive_int(n_samples, "n_samples")
    rng = np.random.default_rng(rng)
    q = rng.standard_normal((n_samples, d))
    k = rng.standard_normal((n_samples, d))
    if unit:
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    return np.einsum("nd,nd->n", q, k)  # row i of q with row i of k: one dot product per pair


def dot_product_variance(d: int, n_samples: int = 20_000, *, unit: bool = False, seed: int = 0) -> float:
    """The variance experiment: the sample variance of ``q·k`` over random pairs.

    Theory says ``d`` for independent unit-variance components, and ``1/d`` for random
    unit vectors; this measures it.

    Parameters
    ----------
    d : int
        Dimension of the vectors (``d_k``).
    n_samples : int, default 20,000
        Number of independent pairs. The estimate's relative standard error is about
        ``sqrt(2 / n_samples)``: 1% at the default.
    unit : bool, default False
        Use random unit vectors instead of unit-variance components.
    seed : int, default 0

    Returns
    -------
    float

    Examples
    --------
    >>> round(dot_product_variance(64), -1)               # theory: 64
    60.0
    >>> round(dot_product_variance(64, unit=True) * 64, 1)   # theory: 1/64
    1.0
    """
    return float(np.var(dot_product_samples(d, n_samples, unit=unit, rng=seed)))


# -- saturation: entropy and gradient against d_k ---------------------------------------


@dataclass(frozen=True)
class Saturation:
    """How peaked softmax gets over random scores, and how much gradient it passes back.

    Attributes
    ----------
    d_k : int
    scaled : bool
        Whether the scores were divided by ``sqrt(d_k)``.
    entropy : float
        Mean entropy of the weights, in nats (``log n_keys`` is uniform, 0 is one-hot).
    max_weight : float
        Mean of each query's largest weight (1 is one-hot).
    grad_scores : float
        Median over queries of ``|∂L/∂s|``, the gradient reaching the scores.
    grad_scores_mean : float
        The mean of the same, pulled up by the few queries whose top scores nearly tie.
    grad_query : float
        Median over queries of ``|∂L/∂q|``, the gradient reaching the query vector.
    """

    d_k: int
    scaled: bool
    entropy: float
    max_weight: float
    grad_scores: float
    grad_scores_mean: float
    grad_query: float


def saturation(d_k: int, *, scaled: bool = True, n_keys: int = 16, n_queries: int = 1000, seed: int = 0) -> Saturation:
    """Measure softmax saturation at one ``d_k`` with PyTorch autograd.

    Each of ``n_queries`` random queries is scored against its own ``n_keys`` random
    keys (standard normal components); the weights ``w = softmax(s)`` feed a loss
    ``L = Σ_j w_j g_j`` with a random upstream gradient ``g`` (standing in for whatever
    the rest of the network sends back), and autograd returns ``∂L/∂s`` and ``∂L/∂q``.
    Medians, not means: with unscaled scores a few queries whose top two scores almost
    tie keep a large gradient and would hide that the typical query gets almost none.

    Examples
    --------
    >>> s = saturation(256, scaled=False, n_queries=200)
    >>> s.max_weight > 0.8, s.grad_scores < 0.05
    (True, True)
    >>> saturation(256, n_queries=200).grad_scores > 0.2
    True
    """
    import torch

    d_k, n_keys, n_queries = (_positive_int(v, n) for v, n in ((d_k, "d_k"), (n_keys, "n_keys"), (n_queries, "n_queries")))
    gen = torch.Generator().manual_seed(seed)
    # float32, as models train: drawing 1000 x 16 x 1024 numbers is four times faster
    # than in float64, and the smallest medians measured (about 1e-5) are far above its
    # resolution.
    q = torch.randn(n_queries, d_k, generator=gen, requires_grad=True)
    k = torch.randn(n_queries, n_keys, d_k, generator=gen)
    g = torch.randn(n_queries, n_keys, generator=gen)
    s = torch.einsum("nd,njd->nj", q, k)  # (n_queries, d_k) x (n_queries, n_keys, d_k) -> (n_queries, n_keys)
    if scaled:
        s = s / math.sqrt(d_k)
    s.retain_grad()
    w = torch.softmax(s, dim=-1)
    (w * g).sum().backward()
    w = w.detach().numpy()
    return Saturation(
        d_k=d_k,
        scaled=bool(scaled),
        entropy=float(np.mean(entropy(w))),
        max_weight=float(w.max(axis=-1).mean()),
        grad_scores=float(s.grad.norm(dim=-1).median()),
        grad_scores_mean=float(s.grad.norm(dim=-1).mean()),
        grad_query=float(q.grad.norm(dim=-1).median()),
    )


# -- the interactive panel: scores and weights at one d_k --------------------------------


@dataclass(frozen=True)
class ScorePanel:
    """What the d_k explorer shows for one setting, as plain arrays.

    Attributes
    ----------
    d_k : int
    scaled : bool
    scores : numpy.ndarray, shape (n_pairs,)
        Scores of many random query-key pairs: the histogram.
    row : numpy.ndarray, shape (n_keys,)
        One query's scores against ``n_keys`` keys.
    weights : numpy.ndarray, shape (n_keys,)
        ``softmax(row)``: the bars.
    entropy : float
        Entropy of ``weights`` in nats.
    """

    d_k: int
    scaled: bool
    scores: np.ndarray
    row: np.ndarray
    weights: np.ndarray
    entropy: float

    @property
    def std(self) -> float:
        """Sample standard deviation of the scores (theory: ``sqrt(d_k)`` unscaled, 1 scaled)."""
        return float(np.std(self.scores))


def score_panel(d_k: int, *, scaled: bool, n_keys: int = 12, n_pairs: int = 4000, seed: int = 0) -> ScorePanel:
    """Random scores at one ``d_k``, and one query's softmax weights: a pure function.

    The same ``seed`` gives the same draws, so a page can precompute every setting of
    the explorer and a redraw never flickers between random samples.

    Examples
    --------
    >>> p = score_panel(64, scaled=False)
    >>> 6 < p.std < 10            # about sqrt(64) = 8
    True
    >>> 0.9 < score_panel(64, scaled=True).std < 1.1
    True
    """
    d_k, n_keys, n_pairs = (_positive_int(v, n) for v, n in ((d_k, "d_k"), (n_keys, "n_keys"), (n_pairs, "n_pairs")))
    rng = np.random.default_rng([seed, d_k])
    scores = dot_product_samples(d_k, n_pairs, rng=rng)
    q = rng.standard_normal(d_k)
    keys = rng.standard_normal((n_keys, d_k))
    row = keys @ q  # (n_keys, d_k) x (d_k,) -> (n_keys,)
    if scaled:
        scores, row = scores / math.sqrt(d_k), row / math.sqrt(d_k)
    weights = softmax(row)
    return ScorePanel(d_k, bool(scaled), scores, row, weights, float(entropy(weights)))


#: Okabe-Ito colours, as in chapter 1's explorer.
COLOURS = {"scores": "#0072B2", "weights": "#E69F00", "guide": "#999999"}


class _PanelArtists:
    """The artists of one panel on two axes, made once and updated for each panel.

    Making axes, ticks and 100 histogram bars is most of what drawing a panel costs;
    updating the heights and titles of ones already made is a fraction of it, which is
    what lets the explorer redraw quickly and the page precompute all 22 of its states.
    """

    def __init__(self, axes, n_keys: int, score_range: float):
        self.hist_ax, self.bar_ax = axes
        self.n_keys, self.bins = n_keys, np.linspace(-score_range, score_range, 101)
        # One filled outline for the histogram, not a hundred bar patches.
        self.steps = self.hist_ax.stairs(np.zeros(len(self.bins) - 1), self.bins, fill=True, color=COLOURS["scores"])
        self.hist_ax.set_xlim(-score_range, score_range)
        self.hist_ax.set_yticks([])
        self.hist_ax.set_xlabel("score")
        self.bars = self.bar_ax.bar(np.arange(n_keys), np.zeros(n_keys), color=COLOURS["weights"])
        self.guide = self.bar_ax.axhline(1 / n_keys, color=COLOURS["guide"], lw=0.8, ls="--")  # uniform weights
        self.bar_ax.set_ylim(0, 1)
        self.bar_ax.set_xticks(np.arange(0, n_keys, 3))
        self.bar_ax.set_xlabel(f"key (of {n_keys})")
        self.bar_ax.set_ylabel("weight")

    def show(self, panel: ScorePanel) -> None:
        if len(panel.weights) != self.n_keys:
            raise ValueError(f"these axes draw {self.n_keys} keys, but the panel has {len(panel.weights)}")
        counts, _ = np.histogram(np.clip(panel.scores, self.bins[0], self.bins[-1]), bins=self.bins)
        self.steps.set_data(counts)
        self.hist_ax.set_ylim(0, 1.05 * max(int(counts.max()), 1))
        what = "q·k / √d_k" if panel.scaled else "q·k"
        self.hist_ax.set_title(f"{what}, d_k = {panel.d_k}\nstd {panel.std:.2f}")
        for bar, weight in zip(self.bars, panel.weights):
            bar.set_height(weight)
        self.bar_ax.set_title(f"one query's weights\nentropy {panel.entropy:.2f} (max {math.log(self.n_keys):.2f})")

    def changing(self) -> list:
        """The artists that differ from one panel to the next, in drawing order."""
        return [self.steps, self.hist_ax.title, *self.bars, self.guide, self.bar_ax.title]


def draw_score_panel(panel: ScorePanel, axes, *, score_range: float = 100.0) -> None:
    """Draw a panel on two matplotlib axes: the score histogram and the weights.

    The histogram's x-axis is fixed at ``±score_range`` whatever ``d_k`` is, so panels
    side by side (or a redraw after a move of the slider) compare widths honestly.
    """
    _PanelArtists(axes, len(panel.weights), score_range).show(panel)


class PanelPainter:
    """Renders panels to PNG bytes quickly, for the explorer's many states.

    Axes, ticks and labels are the same in every panel and are most of the drawing time,
    so they are drawn once; each panel then draws only its histogram, bars and titles
    over a copy of that background (matplotlib's "blitting"). No pyplot, no global state.

    Examples
    --------
    >>> painter = PanelPainter(dpi=40)
    >>> [painter.png(score_panel(d, scaled=True))[:4] for d in (4, 64)]
    [b'\\x89PNG', b'\\x89PNG']
    """

    def __init__(self, *, dpi: int = 80, n_keys: int = 12, score_range: float = 100.0):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(8, 3), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.04, right=0.98, bottom=0.17, top=0.8, wspace=0.25)
        self._artists = _PanelArtists(self.figure.subplots(1, 2), n_keys, score_range)
        for artist in self._artists.changing():
            artist.set_animated(True)  # left out of the background
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)

    def png(self, panel: ScorePanel) -> bytes:
        from PIL import Image

        self._artists.show(panel)
        self.canvas.restore_region(self._background)
        for artist in self._artists.changing():
            self.figure.draw_artist(artist)
        width, height = self.canvas.get_width_height()
        buffer = io.BytesIO()
        Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(buffer, "png")
        return buffer.getvalue()


def panel_png(panel: ScorePanel, *, dpi: int = 80) -> bytes:
    """Render one panel to PNG bytes (a :class:`PanelPainter` renders many faster).

    Examples
    --------
    >>> panel_png(score_panel(4, scaled=True))[:4]
    b'\\x89PNG'
    """
    return PanelPainter(dpi=dpi, n_keys=len(panel.weights)).png(panel)


#: The d_k values the explorer's slider steps through.
D_K_CHOICES = tuple(2**i for i in range(11))  # 1 .. 1024


class ScoreExplorer:
    """A d_k slider and a "divide by √d_k" switch that redraw the scores and weights.

    Each change calls :func:`score_panel` and redraws; it needs a running kernel to
    respond (on a static page it shows its first state).

    Examples
    --------
    >>> ex = ScoreExplorer(d_k=16, scaled=False)
    >>> ex.d_k.value = 256          # what a reader's drag does
    >>> ex.panel.d_k, ex.panel.scaled
    (256, False)
    """

    def __init__(self, d_k: int = 64, scaled: bool = False):
        import ipywidgets as w

        if d_k not in D_K_CHOICES:
            raise ValueError(f"d_k={d_k!r} must be one of the slider's values {D_K_CHOICES}")
        self.d_k = w.SelectionSlider(options=D_K_CHOICES, value=d_k, description="d_k",
                                     continuous_update=True, layout=w.Layout(width="24em"))
        self.scaled = w.Checkbox(value=bool(scaled), description="divide by √d_k")
        self.image = w.Image(format="png", layout=w.Layout(width="640px"))
        self._painter = PanelPainter()
        self.widget = w.VBox([w.HBox([self.d_k, self.scaled]), self.image])
        for control in (self.d_k, self.scaled):
            control.observe(self._update, names="value")
        self._update()

    def _update(self, _change=None) -> None:
        self.panel = score_panel(self.d_k.value, scaled=self.scaled.value)
        self.image.value = self._painter.png(self.panel)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

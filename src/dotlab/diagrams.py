"""Mechanism diagrams, drawn by code: the shapes and steps the chapters teach.

Every function here returns a matplotlib ``Figure`` that is not registered with pyplot
(a test leaks no figure), drawn for the book's column with the house sizes and colours
of :mod:`dotlab.figures`; a page shows it with ``figures.show(...)``, which checks it
and gives it its dark rendering.
Matrices are drawn as grids with one cell per number: an array of shape ``(T,
d_model)`` is ``T`` cells tall and ``d_model`` cells wide, so the picture *is* the shape.
Each matrix's outline is a ``Rectangle`` whose ``gid`` is its name;
:func:`drawn_shapes` reads the shapes back, which is how the tests check that a diagram
draws the arrays it describes.

Shape vocabulary as everywhere in the course: ``T`` tokens, ``d_model``, ``H`` heads of
``d_head``, ``d_k``/``d_v``, ``d_ff``, ``V`` words.

Why our own drawing code: the diagrams need exact cell grids tied to array shapes, which
plain matplotlib patches give in a few lines; a diagram tool (graphviz, TikZ) would
add a dependency and lose the link between the arrays and the picture.
"""

from __future__ import annotations

import functools
import numbers

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from dotlab import figures

__all__ = [
    "drawn_shapes",
    "heads_split_merge",
    "kv_cache_steps",
    "neuron_bank",
    "prefill_stage_boxes",
    "qkv_projection",
    "running_maxima",
    "scaling_pipeline",
    "tiled_attention_tiles",
    "transformer_block",
]

# The stage colours of chapters 7 and 8: attention proper warm, projections blue, MLP green.
STAGE_COLOURS = {
    "qkv": "#56B4E9",
    "scores": "#D55E00",
    "mixing": "#E69F00",
    "out_proj": "#0072B2",
    "mlp_up": "#009E73",
    "mlp_down": "#66C2A5",
    "unembed": "#999999",
}
INPUT = figures.PALETTE[7]  # activations coming in (tokens' vectors): grey
WEIGHT = figures.PALETTE[5]  # learned matrices: sky blue
RESULT = figures.PALETTE[1]  # what the dot products produce: orange
HIGHLIGHT = figures.PALETTE[3]  # the one dot product a diagram points at: vermillion
HEAD_COLOURS = [figures.PALETTE[i] for i in (0, 1, 2, 4, 5, 3, 6, 7)]


def _in_house_style(draw):
    """Draw in the house style whatever the caller's matplotlib settings.

    A diagram's figure, its text and its lines take their colours from the settings in
    force while they are made; a page that shows a diagram outside ``figures.house()``
    would otherwise get a white figure with black text, which the dark rendering keeps
    (a white box in the dark theme, black text on its dark cells). No layout engine: a
    diagram places everything in its own cell units.
    """

    @functools.wraps(draw)
    def drawn_in_house_style(*args, **kwargs):
        with mpl.rc_context({**figures.style(), "figure.constrained_layout.use": False}):
            return draw(*args, **kwargs)

    return drawn_in_house_style


def _size(name: str, value, low: int = 1, high: int = 64) -> int:
    """A positive whole number of cells, small enough to draw."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name}={value!r} must be a whole number from {low} to {high} (cells to draw)")
    return int(value)


def _canvas(cells_wide: float, cells_high: float) -> tuple[Figure, object]:
    """A figure the column's width, one frameless axis filling it, in cell units.

    The axis fills the whole figure and the height follows from the width, so one cell
    is a square of ``COLUMN_WIDTH_IN / cells_wide`` inches; every label must fit inside
    the limits (the tests check that none spills out or overlaps another).
    """
    width = figures.COLUMN_WIDTH_IN
    fig = Figure(figsize=(width, width * cells_high / cells_wide))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, cells_wide)
    ax.set_ylim(-cells_high, 0)  # rows go down the page, as in a printed array
    ax.axis("off")
    return fig, ax


def _matrix(ax, x, y, rows, cols, name, colour, *, label=None, shape=None, alpha=0.35,
            label_below=True):
    """A rows x cols grid of cells with its top-left corner at (x, -y); its outline's gid is name."""
    for r in range(1, rows):
        ax.plot([x, x + cols], [-(y + r)] * 2, color=colour, lw=0.5, alpha=0.8)
    for c in range(1, cols):
        ax.plot([x + c] * 2, [-y, -(y + rows)], color=colour, lw=0.5, alpha=0.8)
    ax.add_patch(Rectangle((x, -(y + rows)), cols, rows, facecolor=colour, alpha=alpha, lw=0))
    outline = Rectangle((x, -(y + rows)), cols, rows, fill=False, edgecolor=colour, lw=1.5, gid=name)
    ax.add_patch(outline)
    if label is not None:
        ax.text(x + cols / 2, -y + 0.25, label, ha="center", va="bottom", fontsize=figures.FONT_PT)
    if shape is not None:
        yy = -(y + rows) - 0.25 if label_below else -y + 1.3
        ax.text(x + cols / 2, yy, shape, ha="center", va="top" if label_below else "bottom",
                fontsize=figures.SMALL_PT, color=figures.MUTED)
    return outline


def _cell(ax, x, y, colour, *, gid=None, alpha=0.9):
    """Fill one cell (top-left at (x, -y)) to point at a single number."""
    ax.add_patch(Rectangle((x, -(y + 1)), 1, 1, facecolor=colour, alpha=alpha, lw=0, gid=gid))


def _arrow(ax, start, end, text=None, *, colour=figures.INK, rad=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color=colour,
                                 lw=1.2, connectionstyle=f"arc3,rad={rad}"))
    if text:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        ax.text(mx, my + 0.3, text, ha="center", va="bottom", fontsize=figures.SMALL_PT)


def _box(ax, x, y, w, h, text, colour, *, gid=None):
    """A rounded box with centred text, in data coordinates (x, y is the bottom-left)."""
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.3",
                                facecolor=colour, edgecolor=figures.INK, lw=1, alpha=0.9, gid=gid))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=figures.SMALL_PT)


def _lift_overlapping(fig: Figure, texts: list) -> None:
    """Move each label up until it clears every label placed before it (narrow boxes sit close)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    placed = []
    for t in texts:
        for _ in range(20):
            box = t.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                break
            x, y = t.get_position()
            t.set_position((x, y + 1.0))
        placed.append(t.get_window_extent(renderer))


def drawn_shapes(fig: Figure) -> dict[str, tuple[int, int]]:
    """The ``(rows, cols)`` of every matrix a diagram drew, by name.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure from this module.

    Returns
    -------
    dict of str to (int, int)
        One entry per grid outline (a ``Rectangle`` with a ``gid``).

    Examples
    --------
    >>> drawn_shapes(qkv_projection(T=4, d_model=6, d_k=3, d_v=2))["Q"]
    (4, 3)
    """
    shapes = {}
    for ax in fig.axes:
        for patch in ax.patches:
            if isinstance(patch, Rectangle) and patch.get_gid():
                shapes[patch.get_gid()] = (round(patch.get_height()), round(patch.get_width()))
    return shapes


@_in_house_style
def neuron_bank(n_in: int = 5, n_out: int = 3, highlight: int = 0) -> Figure:
    """A layer as a bank of neurons: each row of ``W`` meets ``x`` in one dot product.

    Draws ``W (n_out, n_in)``, ``x (n_in,)`` as a column and ``z = W x + b (n_out,)``;
    neuron ``highlight``'s row and its output are coloured.

    Raises
    ------
    ValueError
        For sizes that are not small positive whole numbers, or ``highlight`` outside
        ``0..n_out-1``.

    Examples
    --------
    >>> shapes = drawn_shapes(neuron_bank(n_in=5, n_out=3))
    >>> shapes["W"], shapes["x"], shapes["z"]
    ((3, 5), (5, 1), (3, 1))
    """
    n_in, n_out = _size("n_in", n_in, high=24), _size("n_out", n_out, high=24)
    if isinstance(highlight, bool) or not isinstance(highlight, numbers.Integral) or not 0 <= highlight < n_out:
        raise ValueError(f"highlight={highlight!r} must name a neuron in 0..{n_out - 1}")
    top = 1.5
    wide = n_in + 16.5  # room on the right for the highlighted neuron's equation
    fig, ax = _canvas(wide, max(n_in, n_out) + top + 2)
    _matrix(ax, 4, top, n_out, n_in, "W", WEIGHT, label=r"$\mathbf{W}$ (one neuron per row)",
            shape=f"({n_out}, {n_in})")
    for c in range(n_in):
        _cell(ax, 4 + c, top + highlight, HIGHLIGHT, alpha=0.55)
    ax.text(3.6, -(top + highlight + 0.5), f"neuron {highlight}", ha="right", va="center",
            fontsize=figures.SMALL_PT, color=HIGHLIGHT)
    xx = 4 + n_in + 1.5
    ax.text(xx - 0.75, -(top + n_out / 2), "·", ha="center", va="center", fontsize=16)
    _matrix(ax, xx, top, n_in, 1, "x", INPUT, label=r"$\mathbf{x}$", shape=f"({n_in},)")
    zx = xx + 3
    ax.text(zx - 1, -(top + n_out / 2), "+ b =", ha="center", va="center", fontsize=figures.FONT_PT)
    _matrix(ax, zx + 0.6, top, n_out, 1, "z", RESULT, label=r"$\mathbf{z}$", shape=f"({n_out},)")
    _cell(ax, zx + 0.6, top + highlight, HIGHLIGHT, alpha=0.7)
    ax.text(zx + 2.0, -(top + highlight + 0.5), r"$z_%d = \mathbf{w}_%d\cdot\mathbf{x} + b_%d$"
            % (highlight, highlight, highlight), ha="left", va="center", fontsize=figures.SMALL_PT)
    return fig


@_in_house_style
def qkv_projection(T: int = 4, d_model: int = 6, d_k: int = 3, d_v: int = 3) -> Figure:
    """``Q = X W_Q``, ``K = X W_K``, ``V = X W_V`` laid out so every product sits under its weight.

    ``X (T, d_model)`` is at the lower left; each weight ``(d_model, d_k)`` stands above
    its product ``(T, d_k)``, so row ``i`` of a product lines up with row ``i`` of
    ``X`` and column ``j`` with column ``j`` of the weight: the cell where they cross
    is their dot product (one is coloured for ``Q``).

    Raises
    ------
    ValueError
        For sizes that are not small positive whole numbers.

    Examples
    --------
    >>> s = drawn_shapes(qkv_projection(T=4, d_model=6, d_k=3, d_v=2))
    >>> s["X"], s["W_Q"], s["Q"], s["W_V"], s["V"]
    ((4, 6), (6, 3), (4, 3), (6, 2), (4, 2))
    """
    T, d_model = _size("T", T, high=16), _size("d_model", d_model, high=16)
    d_k, d_v = _size("d_k", d_k, high=16), _size("d_v", d_v, high=16)
    gap = 2.0
    top = 1.5  # room for the weights' labels
    wide = d_model + gap + 2 * (d_k + gap) + d_v + 1
    fig, ax = _canvas(wide, top + d_model + gap + T + 1.5)
    y_prod = top + d_model + gap
    _matrix(ax, 0, y_prod, T, d_model, "X", INPUT, label=r"$\mathbf{X}$  (T, d_model)", shape=f"{T} × {d_model}")
    x = d_model + gap
    for name, width in (("Q", d_k), ("K", d_k), ("V", d_v)):
        sub = "k" if name != "V" else "v"
        _matrix(ax, x, top, d_model, width, f"W_{name}", WEIGHT, label=rf"$\mathbf{{W}}_{name}$",
                shape=f"{d_model} × {width}")
        _matrix(ax, x, y_prod, T, width, name, RESULT, label=rf"$\mathbf{{{name}}}$ (T, d_{sub})",
                shape=f"{T} × {width}")
        x += width + gap
    # one dot product: row 1 of X with column 0 of W_Q lands in Q[1, 0]
    row = min(1, T - 1)
    x_q = d_model + gap
    for c in range(d_model):
        _cell(ax, c, y_prod + row, HIGHLIGHT, alpha=0.5)
        _cell(ax, x_q, top + c, HIGHLIGHT, alpha=0.5)
    _cell(ax, x_q, y_prod + row, HIGHLIGHT, gid="dot")
    return fig


@_in_house_style
def heads_split_merge(T: int = 4, d_model: int = 8, n_heads: int = 2) -> Figure:
    """Multi-head attention's bookkeeping: split the columns into heads, attend, put them back.

    ``Q`` (likewise ``K`` and ``V``), ``(T, d_model)``, is cut into ``n_heads`` column
    slices ``(T, d_head)``; each head attends on its own slice and returns ``(T,
    d_head)``; the outputs are concatenated to ``(T, d_model)`` and multiplied by
    ``W_O``.

    Raises
    ------
    ValueError
        If ``d_model`` does not split evenly into ``n_heads``, or a size is out of range.

    Examples
    --------
    >>> s = drawn_shapes(heads_split_merge(T=4, d_model=8, n_heads=2))
    >>> s["Q"], s["Q_0"], s["Y_1"], s["concat"]
    ((4, 8), (4, 4), (4, 4), (4, 8))
    """
    T, d_model = _size("T", T, high=12), _size("d_model", d_model, high=16)
    n_heads = _size("n_heads", n_heads, high=len(HEAD_COLOURS))
    if d_model % n_heads:
        raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}: "
                         "each head gets an equal slice of the columns")
    d_head = d_model // n_heads
    gap, vgap, top = 3.0, 1.6, 1.5
    high = top + n_heads * T + (n_heads - 1) * vgap + 1.5
    wide = d_model + gap + d_head + gap + d_head + gap + d_model + 0.5
    fig, ax = _canvas(wide, high)
    mid = top + (n_heads * T + (n_heads - 1) * vgap) / 2 - T / 2
    _matrix(ax, 0, mid, T, d_model, "Q", figures.MUTED, label=r"$\mathbf{Q}$", alpha=0.05,
            shape=f"({T}, {d_model})")
    x_in, x_out = d_model + gap, d_model + gap + d_head + gap
    x_cat = x_out + d_head + gap
    _matrix(ax, x_cat, mid, T, d_model, "concat", figures.MUTED, label="concatenated", alpha=0.05,
            shape=f"({T}, {d_model})")
    for h in range(n_heads):
        colour = HEAD_COLOURS[h]
        y = top + h * (T + vgap)
        ax.add_patch(Rectangle((h * d_head, -(mid + T)), d_head, T, facecolor=colour, alpha=0.45, lw=0))
        ax.add_patch(Rectangle((x_cat + h * d_head, -(mid + T)), d_head, T, facecolor=colour, alpha=0.45, lw=0))
        _matrix(ax, x_in, y, T, d_head, f"Q_{h}", colour, shape=f"head {h}: ({T}, {d_head})")
        _matrix(ax, x_out, y, T, d_head, f"Y_{h}", colour, shape=f"({T}, {d_head})")
        _arrow(ax, (d_model + 0.2, -(mid + T / 2)), (x_in - 0.2, -(y + T / 2)))
        _arrow(ax, (x_in + d_head + 0.2, -(y + T / 2)), (x_out - 0.2, -(y + T / 2)))
        _arrow(ax, (x_out + d_head + 0.2, -(y + T / 2)), (x_cat - 0.2, -(mid + T / 2)))
    ax.text(x_in - gap / 2, -0.1, "split", ha="center", va="top", fontsize=figures.FONT_PT)
    ax.text(x_in + d_head + gap / 2, -0.1, "attend", ha="center", va="top", fontsize=figures.FONT_PT)
    ax.text(x_cat - gap / 2, -0.1, "merge", ha="center", va="top", fontsize=figures.FONT_PT)
    ax.text(x_cat + d_model / 2, -(mid + T) - 1.3, r"then $\times\,\mathbf{W}_O$", ha="center",
            va="top", fontsize=figures.SMALL_PT)
    return fig


@_in_house_style
def scaling_pipeline(T: int = 4, d_k: int = 3) -> Figure:
    """Where ``1/sqrt(d_k)`` sits: ``Q Kᵀ``, then the division, then a row-wise softmax, then ``V``.

    Raises
    ------
    ValueError
        For sizes that are not small positive whole numbers.

    Examples
    --------
    >>> s = drawn_shapes(scaling_pipeline(T=4, d_k=3))
    >>> s["Q"], s["K^T"], s["S"], s["A"], s["V"]
    ((4, 3), (3, 4), (4, 4), (4, 4), (4, 3))
    """
    T, d_k = _size("T", T, high=8), _size("d_k", d_k, high=8)
    gap, top = 2.2, 1.5
    wide = d_k + gap + T + gap + T + gap + T + gap + d_k + 0.5
    fig, ax = _canvas(wide, top + max(T, d_k) + 3.5)
    x = 0.0
    steps = [("Q", T, d_k, INPUT, r"$\mathbf{Q}$", r"$\cdot$"),
             ("K^T", d_k, T, INPUT, r"$\mathbf{K}^\top$", "="),
             ("S", T, T, RESULT, r"$\mathbf{S}/\sqrt{d_k}$", "softmax\nby row"),
             ("A", T, T, STAGE_COLOURS["mixing"], r"$\mathbf{A}$", r"$\cdot$"),
             ("V", T, d_k, INPUT, r"$\mathbf{V}$", None)]
    for name, rows, cols, colour, label, op in steps:
        _matrix(ax, x, top, rows, cols, name, colour, label=label, shape=f"({rows}, {cols})")
        x += cols
        if op is not None:
            ax.text(x + gap / 2, -(top + T / 2), op, ha="center", va="center",
                    fontsize=figures.FONT_PT if "\n" not in op else figures.SMALL_PT)
            x += gap
    s_x = d_k + gap + T + gap
    ax.annotate(r"divide here: $q\cdot k$ has variance $d_k$", xy=(s_x + T / 2, -(top + T) - 1.0),
                xytext=(s_x + T / 2, -(top + T) - 2.6), ha="center", va="center",
                fontsize=figures.SMALL_PT, color=HIGHLIGHT,
                arrowprops=dict(arrowstyle="-|>", color=HIGHLIGHT))
    return fig


def running_maxima(scores, block: int) -> np.ndarray:
    """Each query row's running maximum after each key tile, as tiled attention keeps it.

    Parameters
    ----------
    scores : array_like, shape (T_q, T_k)
    block : int
        Keys per tile.

    Returns
    -------
    numpy.ndarray, shape (T_q, ceil(T_k / block))
        Column ``j`` is the largest score among keys ``0 .. (j+1)·block - 1``.

    Raises
    ------
    ValueError
        If ``scores`` is not 2-D or ``block`` is not a positive whole number.

    Examples
    --------
    >>> running_maxima([[1.0, 3.0, 2.0, 0.0, 5.0]], block=2)
    array([[3., 3., 5.]])
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim != 2 or 0 in s.shape:
        raise ValueError(f"scores must be a non-empty (T_q, T_k) table, got shape {s.shape}")
    block = _size("block", block, high=10**9)
    tile_max = [s[:, j:j + block].max(axis=1) for j in range(0, s.shape[1], block)]
    return np.maximum.accumulate(np.stack(tile_max, axis=1), axis=1)  # (T_q, n_tiles)


@_in_house_style
def tiled_attention_tiles(scores, block: int) -> Figure:
    """The score table cut into tiles, and each row's running maximum tile by tile.

    Left: the ``(T, T)`` scores, shaded by value, with the tiles outlined (gids
    ``tile i,j``); tiled attention only ever holds one tile. Right: the running maximum
    ``m`` of every query row after each key tile (:func:`running_maxima`); a cell is
    marked where the maximum grew, which is when the sums kept so far are rescaled by
    ``exp(m_old - m_new)``.

    Raises
    ------
    ValueError
        If ``scores`` is not a small 2-D table, or ``block`` is out of range.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> fig = tiled_attention_tiles(rng.normal(size=(6, 6)), block=3)
    >>> sorted(k for k in drawn_shapes(fig) if k.startswith("tile"))
    ['tile 0,0', 'tile 0,1', 'tile 1,0', 'tile 1,1']
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim != 2 or not (1 <= s.shape[0] <= 12 and 1 <= s.shape[1] <= 12):
        raise ValueError(f"scores must be a (T_q, T_k) table of at most 12 x 12 to draw, got shape {s.shape}")
    block = _size("block", block, high=max(s.shape))
    m = running_maxima(s, block)  # (T_q, n_tiles)
    T_q, T_k = s.shape
    n_tiles = m.shape[1]
    gap, top, cw = 3.0, 1.6, 1.6  # cw: the width of one running-max cell, room for two digits
    wide = T_k + gap + n_tiles * cw + 0.5
    fig, ax = _canvas(wide, top + T_q + 1.5)
    lo, hi = s.min(), s.max()
    shade = (s - lo) / (hi - lo if hi > lo else 1.0)
    for i in range(T_q):
        for j in range(T_k):
            ax.add_patch(Rectangle((j, -(i + 1 + top)), 1, 1, facecolor=(0.85 - 0.55 * shade[i, j],) * 3,
                                   lw=0))
    _matrix(ax, 0, top, T_q, T_k, "S", figures.MUTED, alpha=0.0, label="scores, tile by tile",
            shape=f"({T_q}, {T_k})")
    for bi, i0 in enumerate(range(0, T_q, block)):
        for bj, j0 in enumerate(range(0, T_k, block)):
            h, w = min(block, T_q - i0), min(block, T_k - j0)
            ax.add_patch(Rectangle((j0, -(top + i0 + h)), w, h, fill=False, edgecolor=HIGHLIGHT, lw=2.2,
                                   gid=f"tile {bi},{bj}"))
    x0 = T_k + gap
    for j in range(n_tiles):
        ax.text(x0 + (j + 0.5) * cw, -top + 0.2, f"after\ntile {j}", ha="center", va="bottom",
                fontsize=figures.SMALL_PT)
        for i in range(T_q):
            grew = j > 0 and m[i, j] > m[i, j - 1]
            ax.add_patch(Rectangle((x0 + j * cw, -(top + i + 1)), cw, 1,
                                   facecolor=HIGHLIGHT if grew else figures.PAPER, alpha=0.35 if grew else 1,
                                   edgecolor=figures.MUTED, lw=0.5))
            ax.text(x0 + (j + 0.5) * cw, -(top + i + 0.5), f"{m[i, j]:.1f}", ha="center", va="center",
                    fontsize=figures.SMALL_PT)
    ax.add_patch(Rectangle((x0, -(top + T_q)), n_tiles * cw, T_q, fill=False, edgecolor=figures.MUTED, lw=1.2,
                           gid="m"))
    ax.text(x0 + n_tiles * cw / 2, -(top + T_q) - 0.25, "running max m\n(marked: rescale)", ha="center",
            va="top", fontsize=figures.SMALL_PT)
    return fig


@_in_house_style
def kv_cache_steps(prompt: int = 4, steps: int = 3, words: list[str] | None = None) -> Figure:
    """The key cache across decode steps: each step adds one key and asks one query.

    Row 0 is the prefill (``prompt`` keys written, ``prompt`` queries); row ``s`` is
    decode step ``s``: the cache holds ``prompt + s`` keys, one of them new, and the new
    token's single query meets all of them (``prompt + s`` dot products per head per
    layer). The value cache grows the same way.

    Raises
    ------
    ValueError
        For sizes out of range, or ``words`` not ``prompt + steps`` long.

    Examples
    --------
    >>> s = drawn_shapes(kv_cache_steps(prompt=4, steps=3))
    >>> [s[f"K step {i}"] for i in range(4)]
    [(1, 4), (1, 5), (1, 6), (1, 7)]
    """
    prompt, steps = _size("prompt", prompt, high=12), _size("steps", steps, low=0, high=8)
    total = prompt + steps
    if words is not None and len(words) != total:
        raise ValueError(f"words has {len(words)} entries; need prompt + steps = {total}")
    left, vgap = 5.0, 0.7
    top = 2.2 if words is not None else 0.6  # room for the words, written upwards
    wide = left + total + 6.0
    fig, ax = _canvas(wide, top + (steps + 1) * (1 + vgap) + 1.2)
    for j in range(total):
        if words is not None:
            ax.text(left + j + 0.5, -top + 0.15, words[j], ha="center", va="bottom", rotation=90,
                    fontsize=figures.SMALL_PT)
    for s in range(steps + 1):
        y = top + s * (1 + vgap)
        n = prompt + s
        for j in range(n):
            new = (s == 0) or j == n - 1
            _cell(ax, left + j, y, RESULT if new else INPUT, alpha=0.8 if new else 0.6)
        _matrix(ax, left, y, 1, n, f"K step {s}", figures.MUTED, alpha=0.0)
        ax.text(left - 0.4, -(y + 0.5), "prefill" if s == 0 else f"decode step {s}", ha="right",
                va="center", fontsize=figures.SMALL_PT)
        dots = n * n if s == 0 else n
        queries = f"{n} queries" if s == 0 else "1 query"
        ax.text(left + n + 0.4, -(y + 0.5), f"{queries}: {dots} dots", ha="left", va="center",
                fontsize=figures.SMALL_PT)
    ax.text(0.2, -(top + (steps + 1) * (1 + vgap)) + 0.2, "grey: keys read from the cache;"
            " orange: computed this step", ha="left", va="top", fontsize=figures.SMALL_PT,
            color=figures.MUTED)
    return fig


@_in_house_style
def transformer_block(T: int = 48, d_model: int = 96, n_heads: int = 4, d_ff: int = 384,
                      vocab_size: int | None = None) -> Figure:
    """One pre-norm block around its residual stream, with the shapes each step reads and writes.

    The stream (a ``(T, d_model)`` array) runs left to right. Each branch reads it
    through a layer norm and *adds* its output back: attention (``H`` heads of
    ``d_head``), then the MLP (``d_model -> d_ff``, GELU, ``d_ff -> d_model``). With
    ``vocab_size``, the embedding at the start and the final layer norm and
    unembedding at the end are drawn too.

    Raises
    ------
    ValueError
        If ``d_model`` does not split into ``n_heads`` or a size is not positive.

    Examples
    --------
    >>> fig = transformer_block(T=48, d_model=96, n_heads=4, d_ff=384)
    >>> sorted(p.get_gid() for p in fig.axes[0].patches if p.get_gid())
    ['add attention', 'add mlp', 'attention', 'layer norm 1', 'layer norm 2', 'mlp']
    """
    for name, value in (("T", T), ("d_model", d_model), ("n_heads", n_heads), ("d_ff", d_ff)):
        _size(name, value, high=10**7)
    if d_model % n_heads:
        raise ValueError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
    if vocab_size is not None:
        _size("vocab_size", vocab_size, high=10**7)
    d_head = d_model // n_heads
    ends = vocab_size is not None
    branch_w, main_w = 11.0, 6.6  # one branch: LN, its sublayer, the add; the sublayer's box
    x0 = 5.2 if ends else 0.8  # where the first branch starts (after the embedding box)
    x1 = x0 + 2 * branch_w  # where the last one ends
    wide = x1 + (5.8 if ends else 1.0)
    fig, ax = _canvas(wide, 12.4)
    stream_y = -8.6
    ax.add_patch(FancyArrowPatch((x0 - 0.8, stream_y), (x1 + 0.5, stream_y), arrowstyle="-|>",
                                 mutation_scale=14, color=figures.INK, lw=3))
    ax.text((x0 + x1) / 2, stream_y - 2.1, f"residual stream ({T}, {d_model}): read by each branch, "
            "added to", ha="center", va="top", fontsize=figures.SMALL_PT)
    branches = [("attention", "layer norm 1", f"attention\n{n_heads} heads of {d_head}",
                 STAGE_COLOURS["mixing"], x0),
                ("mlp", "layer norm 2", f"MLP\n{d_model}→{d_ff}→{d_model}\n(GELU)",
                 STAGE_COLOURS["mlp_up"], x0 + branch_w)]
    mid_y = -4.3  # the branches' centre line
    for name, ln, text, colour, bx in branches:
        _arrow(ax, (bx + 1.1, stream_y), (bx + 1.1, mid_y - 0.8))
        _box(ax, bx, mid_y - 0.8, 2.2, 1.6, "LN", figures.PAPER, gid=ln)
        _arrow(ax, (bx + 2.3, mid_y), (bx + 3.0, mid_y))
        _box(ax, bx + 3.0, mid_y - 1.7, main_w, 3.4, text, colour, gid=name)
        plus_x = bx + 3.0 + main_w + 0.9
        _arrow(ax, (bx + 3.1 + main_w, mid_y), (plus_x, mid_y))
        _arrow(ax, (plus_x, mid_y), (plus_x, stream_y + 0.5))
        ax.add_patch(Rectangle((plus_x - 0.5, stream_y - 0.5), 1.0, 1.0, facecolor=figures.PAPER,
                               edgecolor=figures.INK, lw=1.2, gid=f"add {name}"))
        ax.text(plus_x, stream_y, "+", ha="center", va="center", fontsize=figures.FONT_PT)
    if ends:
        _box(ax, 0.2, stream_y - 1.3, 4.4, 2.6, "token +\nposition", INPUT, gid="embed")
        _box(ax, x1 + 0.7, stream_y - 1.9, 4.9, 3.8, "final LN,\n· each of\n{:,} words".format(vocab_size),
             STAGE_COLOURS["unembed"], gid="unembed")
    ax.text((x0 + x1) / 2, -0.3, "one block (every layer repeats it)", ha="center", va="top",
            fontsize=figures.FONT_PT)
    return fig


@_in_house_style
def prefill_stage_boxes(shape, T: int) -> Figure:
    """The stages of a prefill as boxes: height = dot products, width = their length.

    Each box's area is its MACs (:func:`dotlab.cost.prefill_cost`, one layer's share for
    the per-layer stages), so the eye compares work while reading off the two rungs
    below it: many short dot products (the scores) or fewer long ones (the MLP).

    Parameters
    ----------
    shape : dotlab.cost.TransformerShape
    T : int
        Tokens in the prompt.

    Examples
    --------
    >>> from dotlab.cost import TransformerShape
    >>> gpt = TransformerShape(n_layers=2, d_model=64, n_heads=4, d_head=16, d_ff=256, vocab_size=100)
    >>> fig = prefill_stage_boxes(gpt, T=32)
    >>> sorted(drawn_shapes(fig))[:3]
    ['mixing', 'mlp_down', 'mlp_up']
    """
    from dotlab.cost import prefill_cost  # cost imports nothing from here; kept local to stay light

    table = prefill_cost(shape, T)
    rows = [r for r in table.rows if r.name != "unembed"]
    heights = np.array([r.dot_products / shape.n_layers for r in rows], dtype=float)
    widths = np.array([r.length for r in rows], dtype=float)
    # scale both axes into drawing units; equal scale factors for every box keep area ∝ MACs
    sx = 20.0 / widths.sum()
    sy = 6.0 / heights.max()
    gap = 0.5
    wide = 20.0 + gap * (len(rows) - 1) + 0.5
    fig, ax = _canvas(wide, 10.0)
    ax.set_ylim(-10.0, 0)
    x = 0.25
    base = -8.5
    total = sum(r.macs for r in rows)
    labels = []
    for r, h, w in zip(rows, heights, widths):
        ax.add_patch(Rectangle((x, base), w * sx, h * sy, facecolor=STAGE_COLOURS[r.name], edgecolor=figures.INK,
                               lw=0.8, gid=r.name))
        labels.append(ax.text(x + w * sx / 2, base + h * sy + 0.2, f"{r.name}\n{r.macs / total:.0%}",
                              ha="center", va="bottom", fontsize=figures.SMALL_PT))
        x += w * sx + gap
    _lift_overlapping(fig, labels)
    ax.text(0.25, base - 0.3, "width: length of each dot product   height: dot products per layer",
            ha="left", va="top", fontsize=figures.SMALL_PT, color=figures.MUTED)
    fig.box_scale = (sx, sy)  # drawing units per (length, dot product), for readers and tests
    return fig

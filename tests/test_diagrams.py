"""dotlab.diagrams: every diagram draws the shapes of the arrays it describes.

A diagram is a claim about shapes ("Q is (T, d_k)"); these tests read the drawn grids
back (``drawn_shapes``) and compare them with the arrays the course's own functions
produce, so a diagram cannot drift from the code it explains.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from dotlab import cost, diagrams
from dotlab.attention import merge_heads, split_heads
from dotlab.diagrams import drawn_shapes


@pytest.fixture(autouse=True)
def _no_pyplot_figures():
    """Diagrams are plain Figures: nothing is left open in pyplot after a test."""
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


def test_neuron_bank_draws_w_x_and_z_with_the_layer_shapes():
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(3, 5)), rng.normal(size=5)
    shapes = drawn_shapes(diagrams.neuron_bank(n_in=5, n_out=3))
    assert shapes["W"] == W.shape
    assert shapes["x"] == (x.shape[0], 1)
    assert shapes["z"] == ((W @ x).shape[0], 1)


@settings(max_examples=25)  # each example draws a figure
@given(T=st.integers(1, 8), d_model=st.integers(1, 8), d_k=st.integers(1, 6), d_v=st.integers(1, 6))
def test_qkv_projection_shapes_are_those_of_the_products(T, d_model, d_k, d_v):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(T, d_model))
    W_Q, W_V = rng.normal(size=(d_model, d_k)), rng.normal(size=(d_model, d_v))
    s = drawn_shapes(diagrams.qkv_projection(T=T, d_model=d_model, d_k=d_k, d_v=d_v))
    assert s["X"] == X.shape and s["W_Q"] == W_Q.shape and s["W_V"] == W_V.shape
    assert s["Q"] == (X @ W_Q).shape and s["K"] == (X @ W_Q).shape and s["V"] == (X @ W_V).shape


def test_qkv_projection_points_at_the_cell_where_a_row_and_a_column_meet():
    fig = diagrams.qkv_projection(T=4, d_model=6, d_k=3, d_v=3)
    ax = fig.axes[0]
    rects = {p.get_gid(): p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid()}
    q, dot = rects["Q"], rects["dot"]
    # the highlighted cell lies inside Q, in its first column
    assert q.get_x() == dot.get_x()
    assert q.get_y() <= dot.get_y() < q.get_y() + q.get_height()


@pytest.mark.parametrize("T, d_model, n_heads", [(4, 8, 2), (3, 6, 3), (2, 8, 4), (5, 5, 1)])
def test_heads_are_the_slices_split_heads_makes(T, d_model, n_heads):
    q = np.arange(T * d_model, dtype=float).reshape(T, d_model)
    heads = split_heads(q, n_heads)  # (H, T, d_head)
    s = drawn_shapes(diagrams.heads_split_merge(T=T, d_model=d_model, n_heads=n_heads))
    assert s["Q"] == q.shape
    for h in range(n_heads):
        assert s[f"Q_{h}"] == heads[h].shape
        assert s[f"Y_{h}"] == heads[h].shape
    assert s["concat"] == merge_heads(heads).shape
    assert sum(s[f"Q_{h}"][1] for h in range(n_heads)) == d_model


def test_heads_refuse_a_width_that_does_not_split():
    with pytest.raises(ValueError, match=r"d_model=6 must be divisible by n_heads=4"):
        diagrams.heads_split_merge(T=4, d_model=6, n_heads=4)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, 10**6])
def test_sizes_that_cannot_be_drawn_are_refused_with_their_name(bad):
    with pytest.raises(ValueError, match=r"d_model="):
        diagrams.qkv_projection(d_model=bad)


def test_scaling_pipeline_shapes_follow_the_formula():
    T, d_k = 4, 3
    rng = np.random.default_rng(0)
    Q, K = rng.normal(size=(2, T, d_k))
    s = drawn_shapes(diagrams.scaling_pipeline(T=T, d_k=d_k))
    assert s["Q"] == Q.shape and s["K^T"] == K.T.shape
    assert s["S"] == (Q @ K.T).shape == s["A"]
    assert s["V"] == (T, d_k)


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 10), st.integers(0, 2**31))
def test_running_maxima_are_the_maxima_of_every_prefix_of_tiles(T_q, T_k, block, seed):
    s = np.random.default_rng(seed).normal(size=(T_q, T_k))
    m = diagrams.running_maxima(s, block)
    assert m.shape == (T_q, math.ceil(T_k / block))
    for j in range(m.shape[1]):
        np.testing.assert_array_equal(m[:, j], s[:, : (j + 1) * block].max(axis=1))
    np.testing.assert_array_equal(m[:, -1], s.max(axis=1))  # what a plain softmax subtracts


def test_running_maxima_refuse_a_vector():
    with pytest.raises(ValueError, match=r"got shape \(5,\)"):
        diagrams.running_maxima(np.ones(5), 2)


@pytest.mark.parametrize("T, block", [(8, 4), (6, 4), (5, 2), (3, 3)])
def test_tiles_cover_the_score_table_exactly_once(T, block):
    s = np.random.default_rng(T).normal(size=(T, T))
    fig = diagrams.tiled_attention_tiles(s, block)
    shapes = drawn_shapes(fig)
    tiles = {k: v for k, v in shapes.items() if k.startswith("tile")}
    n = math.ceil(T / block)
    assert len(tiles) == n * n
    assert sum(r * c for r, c in tiles.values()) == T * T
    assert shapes["S"] == (T, T)
    # the right-hand table prints the running maxima, one per row and tile
    texts = [t.get_text() for t in fig.axes[0].texts]
    for value in diagrams.running_maxima(s, block).ravel():
        assert f"{value:.1f}" in texts


@pytest.mark.parametrize("prompt, steps", [(4, 3), (1, 0), (2, 5)])
def test_kv_cache_holds_one_more_key_each_step(prompt, steps):
    s = drawn_shapes(diagrams.kv_cache_steps(prompt=prompt, steps=steps))
    assert [s[f"K step {i}"] for i in range(steps + 1)] == [(1, prompt + i) for i in range(steps + 1)]


def test_kv_cache_labels_count_the_dot_products_decode_cost_counts():
    shape = cost.TransformerShape(n_layers=1, d_model=4, n_heads=1, d_head=4, d_ff=8, vocab_size=10)
    fig = diagrams.kv_cache_steps(prompt=4, steps=2)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for step in (1, 2):
        T = 4 + step
        assert f"1 query: {cost.decode_cost(shape, T)['scores'].dot_products} dots" in texts


def test_kv_cache_words_must_match_the_tokens():
    with pytest.raises(ValueError, match=r"words has 2 entries; need prompt \+ steps = 5"):
        diagrams.kv_cache_steps(prompt=3, steps=2, words=["a", "b"])


def test_block_has_two_branches_that_add_into_the_stream():
    from dotlab.tinygpt.model import GPTConfig

    cfg = GPTConfig()
    fig = diagrams.transformer_block(T=cfg.block_size, d_model=cfg.d_model, n_heads=cfg.n_heads,
                                     d_ff=cfg.d_ff, vocab_size=cfg.vocab_size)
    gids = [p.get_gid() for p in fig.axes[0].patches if p.get_gid()]
    assert gids.count("add attention") == 1 and gids.count("add mlp") == 1
    assert {"embed", "unembed", "layer norm 1", "layer norm 2"} <= set(gids)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert f"({cfg.block_size}, {cfg.d_model})" in texts  # the stream's shape
    assert f"{cfg.n_heads} heads of {cfg.d_head}" in texts
    assert f"{cfg.d_model}→{cfg.d_ff}" in texts and f"{cfg.d_ff}→{cfg.d_model}" in texts


def test_block_branches_read_the_stream_in_the_order_the_model_runs_them():
    fig = diagrams.transformer_block()
    x = {p.get_gid(): p.get_x() for p in fig.axes[0].patches if p.get_gid()}
    # attention before the MLP, each add after its branch (Block.forward's order)
    assert x["layer norm 1"] < x["attention"] < x["add attention"] < x["layer norm 2"] < x["mlp"] < x["add mlp"]


def test_prefill_boxes_have_areas_proportional_to_their_macs():
    shape = cost.TransformerShape(n_layers=48, d_model=4096, n_heads=32, d_head=128, d_ff=16384,
                                  vocab_size=50257)
    fig = diagrams.prefill_stage_boxes(shape, T=1000)
    table = cost.prefill_cost(shape, 1000)
    rects = {p.get_gid(): p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_gid()}
    assert set(rects) == set(table.names) - {"unembed"}
    sx, sy = fig.box_scale
    for name, r in rects.items():
        assert r.get_width() / sx == pytest.approx(table[name].length)
        assert r.get_height() / sy == pytest.approx(table[name].dot_products / shape.n_layers)
        assert r.get_width() * r.get_height() / (sx * sy) == pytest.approx(table[name].macs / shape.n_layers)


GPT_SHAPE = cost.TransformerShape(n_layers=48, d_model=4096, n_heads=32, d_head=128, d_ff=16384,
                                  vocab_size=50257)
EVERY_DIAGRAM = {
    "neuron_bank": lambda: diagrams.neuron_bank(),
    "qkv_projection": lambda: diagrams.qkv_projection(),
    "heads_split_merge": lambda: diagrams.heads_split_merge(),
    "scaling_pipeline": lambda: diagrams.scaling_pipeline(),
    "tiled_attention_tiles": lambda: diagrams.tiled_attention_tiles(
        np.random.default_rng(1).normal(scale=2, size=(8, 8)), 4),
    "kv_cache_steps": lambda: diagrams.kv_cache_steps(4, 3, words="the girl saw the dogs . they".split()),
    "transformer_block": lambda: diagrams.transformer_block(),
    "transformer_block with ends": lambda: diagrams.transformer_block(vocab_size=125),
    "prefill_stage_boxes": lambda: diagrams.prefill_stage_boxes(GPT_SHAPE, 1000),
    # the sizes the chapters draw them at
    "neuron_bank, chapter 3": lambda: diagrams.neuron_bank(n_in=4, n_out=3, highlight=1),
    "qkv_projection, chapter 5": lambda: diagrams.qkv_projection(T=4, d_model=4, d_k=2, d_v=4),
    "heads_split_merge, chapter 5": lambda: diagrams.heads_split_merge(T=5, d_model=12, n_heads=3),
    "transformer_block, chapter 8": lambda: diagrams.transformer_block(T=48, d_model=96, n_heads=4, d_ff=384,
                                                                       vocab_size=125),
}


@pytest.mark.parametrize("name", EVERY_DIAGRAM)
def test_diagrams_read_on_a_phone(name):
    """The column's width, text no smaller than the book's small print, no label cut off or on another."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    fig = EVERY_DIAGRAM[name]()
    assert isinstance(fig, Figure)
    diagrams.figures.check(fig)  # the house rule every figure on a page meets
    assert diagrams.figures.is_house_svg(diagrams.figures.svg(fig))  # so it gets a dark rendering
    assert fig.get_figwidth() == pytest.approx(diagrams.figures.COLUMN_WIDTH_IN)
    assert fig.get_figheight() <= fig.get_figwidth()  # never taller than the column is wide
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    texts = [t for t in fig.findobj(Text) if t.get_text().strip()]
    assert texts, "a diagram without labels explains nothing"
    for t in texts:
        assert t.get_fontsize() >= diagrams.figures.SMALL_PT, f"{t.get_text()!r} at {t.get_fontsize()} pt"
    assert diagrams.figures.collisions(fig) == []  # no label cut off or drawn over another


HOUSE_INK = {diagrams.figures.INK, diagrams.figures.MUTED, *diagrams.figures.PALETTE}


@pytest.mark.parametrize("name", EVERY_DIAGRAM)
def test_diagrams_are_drawn_in_the_house_colours_whatever_the_callers_settings(name):
    """A page may show a diagram outside figures.house(): it is still drawn for both themes.

    Under matplotlib's own defaults a figure is white and its text black; the dark
    rendering keeps both (a white box in the dark theme, black text on dark cells). A
    house diagram is transparent and every label is in a house colour, which the dark
    rendering turns light.
    """
    import re

    import matplotlib as mpl

    with mpl.rc_context(mpl.rcParamsDefault):
        text = diagrams.figures.svg(EVERY_DIAGRAM[name]())
    background = re.search(r'<g id="patch_1">\s*<path [^>]*style="([^"]*)"', text).group(1)
    assert "opacity: 0" in background or "fill: none" in background, f"figure background: {background}"
    # matplotlib writes a text's glyphs in a group with its fill, and no fill for black
    labels = re.findall(r'<g id="text_\d+">\s*<!--(.*?)-->\s*<g (?:style="fill: (#[0-9a-f]{6})" )?transform', text)
    assert labels, "no labels found in the SVG"
    off = [(label.strip(), fill or "black") for label, fill in labels if fill.lower() not in HOUSE_INK]
    assert not off, f"labels not in a house colour: {off}"


def test_tiles_mark_exactly_the_rows_whose_maximum_grew():
    """A marked cell is a rescale: the row's running maximum rose in that tile of keys."""
    from matplotlib.colors import to_hex

    s = np.random.default_rng(3).normal(scale=2, size=(8, 8))
    m = diagrams.running_maxima(s, 4)
    grew = int((m[:, 1:] > m[:, :-1]).sum())
    fig = diagrams.tiled_attention_tiles(s, 4)
    x0 = next(p for p in fig.axes[0].patches if p.get_gid() == "m").get_x()  # the m table
    marked = [p for p in fig.axes[0].patches
              if isinstance(p, Rectangle) and p.get_x() >= x0 and p.get_fill()
              and to_hex(p.get_facecolor()) == to_hex(diagrams.HIGHLIGHT)]
    assert 0 < grew == len(marked)

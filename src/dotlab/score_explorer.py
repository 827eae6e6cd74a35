"""Chapter 4's d_k explorer: random scores and one query's softmax weights, drawn at each d_k.

Three layers, like chapter 1's vector explorer (:mod:`dotlab.explorer`): a pure function
that returns what one setting shows (:func:`score_panel`), drawing on matplotlib axes
(:func:`draw_score_panel`, :class:`PanelPainter`, :func:`panel_png`), and a widget
(:class:`ScoreExplorer`). The numbers come from :mod:`dotlab.scaling`'s experiments.

Shape vocabulary: ``d_k`` is the length of queries and keys; a panel shows ``n_pairs``
random scores and one query's scores against ``n_keys`` keys.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np

from dotlab.scaling import _positive_int, dot_product_samples
from dotlab.softmax import entropy, softmax

__all__ = [
    "COLOURS",
    "D_K_CHOICES",
    "PanelPainter",
    "ScoreExplorer",
    "ScorePanel",
    "draw_score_panel",
    "panel_colours",
    "panel_png",
    "score_panel",
]


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


def panel_colours(theme: str = "light") -> dict[str, str]:
    """The panel's data colours in one of the book's themes.

    The light ones are :data:`COLOURS`; the dark ones are the house figures' dark
    variants of the same hues (:data:`dotlab.figures.DARK_OF`), and the house's muted
    grey for the guide line, so the explorer matches every other figure in dark mode.

    Examples
    --------
    >>> panel_colours("dark")["scores"], panel_colours("light") == COLOURS
    ('#4ea8e8', True)
    """
    from dotlab import figures

    if theme == "light":
        return dict(COLOURS)
    if theme == "dark":
        return {"scores": figures.DARK_OF[COLOURS["scores"].lower()],
                "weights": figures.DARK_OF[COLOURS["weights"].lower()],
                "guide": figures.colours("dark")["muted"]}
    raise ValueError(f"theme={theme!r}: expected 'light' or 'dark'")


class _PanelArtists:
    """The artists of one panel on two axes, made once and updated for each panel.

    Making axes, ticks and 100 histogram bars is most of what drawing a panel costs;
    updating the heights and titles of ones already made is a fraction of it, which is
    what lets the explorer redraw quickly and the page precompute all 22 of its states.
    """

    def __init__(self, axes, n_keys: int, score_range: float, colours: dict[str, str] = COLOURS):
        self.hist_ax, self.bar_ax = axes
        self.n_keys, self.bins = n_keys, np.linspace(-score_range, score_range, 101)
        # One filled outline for the histogram, not a hundred bar patches.
        self.steps = self.hist_ax.stairs(np.zeros(len(self.bins) - 1), self.bins, fill=True, color=colours["scores"])
        self.hist_ax.set_xlim(-score_range, score_range)
        self.hist_ax.set_yticks([])
        self.hist_ax.set_xlabel("score")
        self.bars = self.bar_ax.bar(np.arange(n_keys), np.zeros(n_keys), color=colours["weights"])
        self.guide = self.bar_ax.axhline(1 / n_keys, color=colours["guide"], lw=0.8, ls="--")  # uniform weights
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

    Parameters
    ----------
    dpi, n_keys, score_range, figsize
        Pixel density, keys per panel, the histogram's half-width, size in inches.
    theme : {"light", "dark"}, optional
        Draw in the house style of :mod:`dotlab.figures` for that theme (transparent
        background, the theme's ink and data colours: :func:`panel_colours`). By default,
        matplotlib's current settings and the light :data:`COLOURS`.
    stacked : bool
        The histogram above the weights instead of beside them: a picture narrow
        enough for a phone's column to show at a size its text can be read at.

    Examples
    --------
    >>> painter = PanelPainter(dpi=40)
    >>> [painter.png(score_panel(d, scaled=True))[:4] for d in (4, 64)]
    [b'\\x89PNG', b'\\x89PNG']
    >>> dark = PanelPainter(dpi=40, theme="dark").png(score_panel(4, scaled=True))
    >>> dark != PanelPainter(dpi=40, theme="light").png(score_panel(4, scaled=True))
    True
    """

    #: Colours in a PNG. A panel has a few flat colours and their anti-aliased edges, so
    #: a palette of this many (PIL's octree quantiser) looks the same as full RGBA at a
    #: third of the bytes; a page embeds every state's picture in both themes.
    PALETTE_SIZE = 128

    def __init__(self, *, dpi: int = 80, n_keys: int = 12, score_range: float = 100.0,
                 figsize: tuple[float, float] = (8, 3), theme: str | None = None, stacked: bool = False):
        import matplotlib as mpl
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from dotlab import figures

        # The house style's settings are read when artists are made and when a title is
        # set, so they apply to both (a layout engine would move the axes: margins below).
        self._rc = {} if theme is None else {**figures.style(theme), "figure.constrained_layout.use": False}
        with mpl.rc_context(self._rc):
            # figsize in inches at 96 CSS px each: a page shows the PNG at figsize * 96
            # px, sharp on any screen when dpi is twice that (figures.RASTER_DPI).
            self.figure = Figure(figsize=figsize, dpi=dpi)
            self.canvas = FigureCanvasAgg(self.figure)
            if stacked:  # margins for two-line titles above each panel, ticks below
                self.figure.subplots_adjust(left=0.19, right=0.96, bottom=0.09, top=0.89, hspace=0.8)
            else:
                self.figure.subplots_adjust(left=0.04, right=0.98, bottom=0.17, top=0.8, wspace=0.25)
            colours = COLOURS if theme is None else panel_colours(theme)
            axes = self.figure.subplots(2, 1) if stacked else self.figure.subplots(1, 2)
            self._artists = _PanelArtists(axes, n_keys, score_range, colours)
            for artist in self._artists.changing():
                artist.set_animated(True)  # left out of the background
            self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)

    def png(self, panel: ScorePanel) -> bytes:
        import matplotlib as mpl
        from PIL import Image

        with mpl.rc_context(self._rc):
            self._artists.show(panel)
            self.canvas.restore_region(self._background)
            for artist in self._artists.changing():
                self.figure.draw_artist(artist)
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.quantize(self.PALETTE_SIZE, method=Image.Quantize.FASTOCTREE).save(buffer, "png")
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

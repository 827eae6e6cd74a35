"""The house figure: matplotlib figures drawn for the book's column, light and dark.

A figure on a page is read at the size it was drawn only if it was drawn for the
column it sits in. The book's text column is 672 CSS px wide at 1280 px and 342 px on a
390 px phone; the browser suite fails any figure shown at less than 60 % of the size it
was drawn at, so a figure is drawn at most :data:`COLUMN_WIDTH_IN` inches wide (557 CSS
px: 100 % of itself on a desktop, 61 % on a phone). Its text is never smaller than the
body's small print (:data:`SMALL_PT`, 14 px).

How to draw a figure for a page::

    from dotlab import figures

    with figures.house():              # the house style (or figures.use() once, in
        fig, ax = figures.subplots()   # the setup cell, for every figure of a page)
        ax.plot(x, y, color=figures.PALETTE[0], label="scaled")
        ax.set_xlabel("d_k")
        ax.legend()
    figures.show(fig)                  # checked, shown as SVG, light and dark

The cell's ``mystnb`` metadata gives the figure its alt text, caption and name as for
any figure (``image: alt:``, ``figure: caption:``/``name:``).

Small multiples: at most 3 panels across (``figures.subplots(2, 3)``); more panels are
more rows, or two figures. A panel narrower than about 1.6 in cannot hold its tick
labels at :data:`SMALL_PT`: use ``figures.subplots(..., sharex=True, sharey=True)`` and
label only the outer axes, or split the figure. Long tick labels are rotated at most
30 degrees (:func:`rotate_ticks`); rather shorten them. :func:`check` raises if a figure
is wider than the column or uses text smaller than :data:`SMALL_PT`: call it at the end
of a cell that draws a busy figure.

Colours: draw with :data:`INK` (text and lines that carry no data), :data:`MUTED`
(secondary text, reference lines), :data:`GRID` and the eight colours of
:data:`PALETTE` (Okabe and Ito's palette, readable for the common colour-vision
deficiencies), never with ``"k"``, ``"black"`` or ``"white"`` for lines and text, and
with a named colour map (``"viridis"``, ``"magma"``, ``"Blues"``) for heatmaps.

Light and dark: the book is read in both. The house style draws the light rendering on
a transparent background. :func:`show` tags the SVG (its root's ``id`` is
:data:`SVG_ID`), which says "drawn with the house colours only"; when the book is built,
:mod:`dotlab.sphinxext` writes a dark rendering of each tagged SVG with
:func:`dark_svg`, which replaces each light colour by its dark counterpart
(:data:`DARK_OF`: the ink turns light, the palette takes a brighter variant of each
hue), and the page shows the one that matches the reader's theme. Heatmap pixels are
kept as drawn, and so is any colour not in :data:`DARK_OF`: text drawn on a heatmap may
be ``"white"`` or ``"black"`` for contrast with its cell. A figure shown without
:func:`show` (the inline backend's own output) is not tagged: it keeps a light backdrop
in the dark theme. In a notebook with a dark theme, ``figures.use("dark")`` draws the
dark rendering directly.

Raster pictures (PNG, for an explorer's precomputed views) are saved at
:data:`RASTER_DPI`, twice the CSS pixel density, and shown at half their pixel size, so
they are sharp on a phone or a high-density screen: :func:`png`.
"""

from __future__ import annotations

import io
import re
from typing import Literal

__all__ = [
    "COLUMN_WIDTH_IN", "CSS_PX_PER_IN", "DARK_OF", "FONT_PT", "GRID", "INK", "MUTED", "PALETTE", "PAPER",
    "RASTER_DPI", "SMALL_PT", "SVG_ID", "TITLE_PT", "Theme", "check", "collisions", "colours", "dark_svg", "house",
    "is_house_svg", "palette", "png", "rotate_ticks", "show", "style", "subplots", "svg", "svg_width_px", "use",
]

# -- sizes -----------------------------------------------------------------------------

#: CSS pixels per inch: matplotlib's SVG gives its size in points (72 per inch), which a
#: browser shows at 96 CSS px per inch.
CSS_PX_PER_IN = 96
#: The widest a figure may be drawn, in inches (557 CSS px). The column is 672 px at
#: 1280 px and 342 px on a 390 px phone, where the figure is then shown at 61 % of its
#: drawn size, above the 60 % the browser suite allows.
COLUMN_WIDTH_IN = 5.8
#: Pixel density of raster pictures: twice the CSS density.
RASTER_DPI = 2 * CSS_PX_PER_IN
#: Body text in a figure (labels, titles of panels), in points: 11 pt = 14.7 px.
FONT_PT = 11.0
#: The smallest text allowed in a figure (ticks, legends, annotations): the body's small
#: print, 14 px = 10.5 pt.
SMALL_PT = 10.5
#: Panel titles.
TITLE_PT = 12.0

# -- colours -----------------------------------------------------------------------------

INK = "#262626"  # text, axes, arrows that carry no data
MUTED = "#6e6e6e"  # secondary text, reference lines
GRID = "#d9d9d9"  # grid lines
PAPER = "#fdfdfd"  # legend boxes and labels drawn on a box (never plain white)
#: Okabe & Ito (2008): blue, orange, green, vermillion, reddish purple, sky blue,
#: yellow, grey. Order of use: the first two for a pair (raw vs scaled, a vs b).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#7f7f7f")

#: The dark rendering of each light colour (lower-case #rrggbb). The palette's dark
#: variants keep each hue and lift its lightness so that it reads on the dark page.
DARK_OF = {
    INK: "#e3e3e3",
    MUTED: "#a6a6a6",
    GRID: "#3b3b3b",
    PAPER: "#1c1c1e",
    "#0072b2": "#4ea8e8",
    "#e69f00": "#f2b33d",
    "#009e73": "#2cc798",
    "#d55e00": "#ff8a4c",
    "#cc79a7": "#e8a0c8",
    "#56b4e9": "#8fd0f5",
    "#f0e442": "#f0e442",
    "#7f7f7f": "#a0a0a0",
}

#: The ``id`` of the root element of every SVG drawn in the house style: how the book's
#: build recognises the figures it may recolour.
SVG_ID = "dotlab-figure"

Theme = Literal["light", "dark"]


def colours(theme: Theme = "light") -> dict[str, str]:
    """The named colours of one rendering.

    Examples
    --------
    >>> colours("light")["ink"], colours("dark")["ink"]
    ('#262626', '#e3e3e3')
    """
    _check_theme(theme)
    named = {"ink": INK, "muted": MUTED, "grid": GRID, "paper": PAPER}
    if theme == "dark":
        named = {k: DARK_OF[v] for k, v in named.items()}
    return named


def palette(theme: Theme = "light") -> tuple[str, ...]:
    """The eight data colours of one rendering, in order of use.

    Examples
    --------
    >>> palette("dark")[0]
    '#4ea8e8'
    """
    _check_theme(theme)
    return PALETTE if theme == "light" else tuple(DARK_OF[c] for c in PALETTE)


def style(theme: Theme = "light") -> dict:
    """The matplotlib ``rcParams`` of the house style, for ``plt.rcParams.update``.

    Examples
    --------
    >>> s = style()
    >>> s["figure.figsize"][0], s["xtick.labelsize"] >= SMALL_PT, s["axes.facecolor"]
    (5.8, True, 'none')
    """
    from cycler import cycler

    c = colours(theme)
    return {
        "figure.figsize": (COLUMN_WIDTH_IN, 0.55 * COLUMN_WIDTH_IN),
        "figure.dpi": CSS_PX_PER_IN,
        "figure.constrained_layout.use": True,
        "figure.facecolor": "none",
        "axes.facecolor": "none",
        "savefig.facecolor": "none",
        "savefig.transparent": True,
        "font.size": FONT_PT,
        "axes.titlesize": TITLE_PT,
        "axes.labelsize": FONT_PT,
        "xtick.labelsize": SMALL_PT,
        "ytick.labelsize": SMALL_PT,
        "legend.fontsize": SMALL_PT,
        "legend.title_fontsize": SMALL_PT,
        "figure.titlesize": TITLE_PT,
        "text.color": c["ink"],
        "axes.labelcolor": c["ink"],
        "axes.edgecolor": c["ink"],
        "axes.titlecolor": c["ink"],
        "xtick.color": c["ink"],
        "ytick.color": c["ink"],
        "grid.color": c["grid"],
        "legend.facecolor": c["paper"],
        "legend.edgecolor": c["grid"],
        "legend.labelcolor": c["ink"],
        "patch.edgecolor": c["ink"],
        "axes.prop_cycle": cycler(color=list(palette(theme))),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "lines.linewidth": 1.8,
        # Glyphs as shapes: the SVG needs no font, and reads the same everywhere.
        "svg.fonttype": "path",
        # Stable ids inside the SVG: the same figure gives the same file on every build.
        "svg.hashsalt": "dotlab",
        "savefig.dpi": RASTER_DPI,
    }


def use(theme: Theme = "light") -> None:
    """Draw every following figure in the house style, shown as SVG in a notebook.

    Call once in a page's setup cell. Also sets the inline backend to SVG and stops it
    from cropping figures to their contents (``bbox_inches='tight'``), which would change
    the width a figure was drawn at; constrained layout keeps labels inside instead.
    """
    import matplotlib.pyplot as plt

    plt.rcParams.update(style(theme))
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: rcParams are all there is to set
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    # No date in the SVG's metadata: the same figure gives the same file on every build.
    set_matplotlib_formats("svg", bbox_inches=None, metadata={"Date": None})


def house(theme: Theme = "light"):
    """The house style for the figures drawn inside a ``with`` block.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with house():
    ...     plt.rcParams["xtick.labelsize"] == SMALL_PT
    True
    """
    import matplotlib.pyplot as plt

    return plt.rc_context(style(theme))


def svg(fig) -> str:
    """The figure as a house SVG: tagged with :data:`SVG_ID`, at the size it was drawn.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with house():
    ...     fig, ax = subplots()
    >>> text = svg(fig)
    >>> is_house_svg(text), svg_width_px(text)
    (True, 556.8)
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    with plt.rc_context({"svg.id": SVG_ID, "svg.hashsalt": "dotlab", "svg.fonttype": "path"}):
        # No cropping (the size it was drawn at is the size it is shown at) and no
        # date (the same figure gives the same file, so a page is not rebuilt for it).
        fig.savefig(buffer, format="svg", bbox_inches=None, metadata={"Date": None})
    return buffer.getvalue()


def show(fig) -> None:
    """Check a figure (:func:`check`), show it as a house SVG, and close it.

    The end of every cell that draws a house figure. The SVG is tagged, so the book
    shows its dark rendering in the dark theme; closing it keeps the inline backend from
    showing it a second time.
    """
    import matplotlib.pyplot as plt
    from IPython.display import SVG, display

    check(fig)
    text = svg(fig)
    plt.close(fig)
    display(SVG(text))


def subplots(nrows: int = 1, ncols: int = 1, *, height: float | None = None,
             width: float = COLUMN_WIDTH_IN, **kwargs):
    """``plt.subplots`` at the column's width, each row of panels a sensible height.

    Parameters
    ----------
    nrows, ncols : int
        Panels down and across; at most 3 across.
    height : float, optional
        Height of the whole figure in inches; by default 0.55 of the width for one row
        of panels, and for more rows at least 2 in per row.
    width : float
        Width in inches, at most :data:`COLUMN_WIDTH_IN`.
    **kwargs
        Passed to ``plt.subplots`` (``sharex``, ``sharey``, ``gridspec_kw``...).

    Raises
    ------
    ValueError
        If the figure would be wider than the column or have more than 3 panels across.

    Examples
    --------
    >>> fig, axes = subplots(2, 3)
    >>> [round(float(x), 2) for x in fig.get_size_inches()], axes.shape
    ([5.8, 4.0], (2, 3))
    >>> subplots(1, 4)
    Traceback (most recent call last):
    ...
    ValueError: ncols=4 panels across: at most 3 fit the 5.8 in column at 10.5 pt ticks; use more rows or two figures
    """
    import matplotlib.pyplot as plt

    if width > COLUMN_WIDTH_IN + 1e-9:
        raise ValueError(f"width={width} in is wider than the column ({COLUMN_WIDTH_IN} in)")
    if ncols > 3:
        raise ValueError(f"ncols={ncols} panels across: at most 3 fit the {COLUMN_WIDTH_IN} in column "
                         f"at {SMALL_PT} pt ticks; use more rows or two figures")
    if height is None:
        # one row: a landscape panel; more rows: at least 2 in each, room for the ticks
        row = 0.55 * width if nrows == 1 else max(2.0, 0.8 * width / ncols)
        height = round(row * nrows, 2)
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)


def rotate_ticks(ax, degrees: float = 30) -> None:
    """Rotate an axis' x tick labels by at most 30 degrees, anchored at their end."""
    if not 0 <= degrees <= 30:
        raise ValueError(f"degrees={degrees}: rotated text past 30 degrees is hard to read; shorten the labels")
    for label in ax.get_xticklabels():
        label.set_rotation(degrees)
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")


def collisions(fig) -> list[str]:
    """Text a reader cannot read: cut off by the figure's edge, or drawn over other text.

    Every visible text of the figure as it will be drawn (layout done; tick labels only
    of the ticks drawn), measured in pixels. Labels placed by hand at data points (one
    per point of a line, say) collide as soon as the points crowd, which depends on the
    data: this finds them where they are drawn. Call it on such a figure, and in the
    tests of a module that draws figures (:mod:`dotlab.diagrams`). :func:`check` does
    not: a figure of measured timings may crowd on one machine and not another.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> collisions(fig)
    []
    >>> _ = ax.annotate("first label", (0.5, 0.5), fontsize=SMALL_PT)
    >>> _ = ax.annotate("second label", (0.51, 0.5), fontsize=SMALL_PT)
    >>> _ = ax.annotate("past the edge", (1.0, 0.5), xytext=(40, 0), textcoords="offset points")
    >>> collisions(fig)
    ["'past the edge' is cut off by the figure's edge", "'first label' is drawn over 'second label'"]
    >>> plt.close(fig)
    """
    from matplotlib.text import Text

    fig.draw_without_rendering()  # the layout engine places everything first
    renderer = fig._get_renderer()
    not_drawn = set()
    for ax in fig.axes:
        if not ax.get_visible():
            not_drawn.update(id(t) for t in ax.findobj(Text))
            continue
        for axis in (ax.xaxis, ax.yaxis):
            ticks = axis.get_major_ticks() + axis.get_minor_ticks()
            shown = ax.axison and axis.get_visible()  # axis("off"), a twin's hidden axis
            drawn = {id(tick) for tick in axis._update_ticks()} if shown else set()  # inside the view
            for tick in ticks:
                if id(tick) not in drawn:
                    not_drawn.update((id(tick.label1), id(tick.label2)))
            if not shown:
                not_drawn.update((id(axis.label), id(axis.offsetText)))
    texts = [t for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and id(t) not in not_drawn]
    boxes = [(t.get_text().strip().replace("\n", " "), t.get_window_extent(renderer), t.get_rotation() % 90 == 0)
             for t in texts]
    page = fig.bbox
    found = [f"{text!r} is cut off by the figure's edge" for text, box, _ in boxes
             if box.x0 < page.x0 - 1 or box.x1 > page.x1 + 1 or box.y0 < page.y0 - 1 or box.y1 > page.y1 + 1]
    # Text turned by an angle other than a right one fills only part of its box, and
    # neighbours (rotated tick labels) share box corners without touching: not compared.
    upright = [(text, box) for text, box, square in boxes if square]
    for i, (a, box_a) in enumerate(upright):
        for b, box_b in upright[i + 1:]:
            wide = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            high = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            if wide > 1 and high > 1:
                found.append(f"{a!r} is drawn over {b!r}")
    return found


def check(fig) -> None:
    """Raise if ``fig`` is wider than the column or holds text below :data:`SMALL_PT`.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = subplots()
    >>> check(fig)
    >>> _ = ax.set_title("tiny", fontsize=6)
    >>> check(fig)
    Traceback (most recent call last):
    ...
    ValueError: text smaller than the body's small print (10.5 pt): 'tiny' at 6.0 pt
    >>> plt.close("all")
    """
    from matplotlib.text import Text

    w, _ = fig.get_size_inches()
    if w > COLUMN_WIDTH_IN + 1e-9:
        raise ValueError(f"figure is {w:.2f} in wide; the column holds {COLUMN_WIDTH_IN} in")
    small = [(t.get_text(), t.get_fontsize()) for t in fig.findobj(Text)
             if t.get_text().strip() and t.get_visible() and t.get_fontsize() < SMALL_PT - 1e-9]
    if small:
        listed = ", ".join(f"{text!r} at {size:.1f} pt" for text, size in small[:5])
        raise ValueError(f"text smaller than the body's small print ({SMALL_PT} pt): {listed}")


def png(fig, dpi: int = RASTER_DPI) -> bytes:
    """The figure as PNG bytes at twice the CSS pixel density (show it at half size).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure(figsize=(2, 1))
    >>> data = png(fig)
    >>> data[:4], int.from_bytes(data[16:20], "big")   # 2 in at 192 dpi
    (b'\\x89PNG', 384)
    >>> plt.close(fig)
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches=None)
    return buffer.getvalue()


_HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


def is_house_svg(svg: str) -> bool:
    """Whether an SVG document was drawn in the house style (its root has :data:`SVG_ID`)."""
    head = svg[: svg.find(">", svg.find("<svg")) + 1] if "<svg" in svg else ""
    return f'id="{SVG_ID}"' in head


def dark_svg(svg: str) -> str:
    """The dark rendering of a house SVG: each light colour replaced by its dark one.

    Colours not in :data:`DARK_OF` (a colour map's pixels, a colour the drawer chose)
    are kept.

    Examples
    --------
    >>> dark_svg('<svg id="dotlab-figure"><path style="fill: #262626; stroke: #0072B2"/></svg>')
    '<svg id="dotlab-figure"><path style="fill: #e3e3e3; stroke: #4ea8e8"/></svg>'
    >>> dark_svg('<svg><path style="fill: #262626"/></svg>')
    Traceback (most recent call last):
    ...
    ValueError: not a house figure: the root <svg> has no id="dotlab-figure" (draw it after figures.use())
    """
    if not is_house_svg(svg):
        raise ValueError(f'not a house figure: the root <svg> has no id="{SVG_ID}" (draw it after figures.use())')
    return _HEX.sub(lambda m: DARK_OF.get(m.group(0).lower(), m.group(0)), svg)


def svg_width_px(svg: str) -> float | None:
    """The width an SVG was drawn at, in CSS px (from its root's ``width``), if given.

    Examples
    --------
    >>> svg_width_px('<svg width="417.6pt" height="230pt">')
    556.8
    >>> svg_width_px('<svg viewBox="0 0 10 10">') is None
    True
    """
    m = re.search(r"<svg\b[^>]*?\bwidth=\"([\d.]+)(pt|px)?\"", svg)
    if not m:
        return None
    value = float(m.group(1))
    return round(value * CSS_PX_PER_IN / 72, 2) if m.group(2) == "pt" else value


def _check_theme(theme: str) -> None:
    if theme not in ("light", "dark"):
        raise ValueError(f"theme={theme!r}: expected 'light' or 'dark'")

"""Chapter 1's vector explorer: two 2-D vectors, their dot product, cosine and projection.

The module has three layers, so each can be reused on its own:

1. :func:`explorer_frame` is pure geometry. Four numbers in (a length and an angle for
   each vector), one :class:`Frame` out, holding every number the chapter talks about
   and every coordinate a picture needs. It uses only the standard library, and
   :meth:`Frame.as_dict` is plain JSON.
2. :func:`draw_frame` turns a frame into a matplotlib picture.
3. Two explorers drive them with sliders:

   - :func:`vector_explorer`, the one the book shows: the browser computes each frame
     with ``explorerFrame`` in ``static_widgets.js``, a line-by-line port of
     :func:`explorer_frame` (``tests/test_browser.py`` checks they agree), so it runs
     on the static web page with no kernel, and in Jupyter.
   - :class:`VectorExplorer` (ipywidgets), for a notebook: each move calls
     :func:`explorer_frame` in the kernel, so the frame is there to use from Python.

Shape vocabulary: both vectors live in the plane, shape ``(2,)``. Angles are in degrees,
measured counter-clockwise from the positive x-axis.
"""

from __future__ import annotations

import io
import math
import numbers
from dataclasses import asdict, dataclass

__all__ = [
    "COLOURS",
    "Frame",
    "VectorExplorer",
    "draw_frame",
    "explorer_frame",
    "frame_png",
    "readout_html",
    "vector_explorer",
]

#: Colours from the Okabe-Ito palette, chosen so readers with colour-vision
#: deficiencies can still tell the vectors and the sign of the projection apart.
COLOURS = {
    "a": "#0072B2",  # blue
    "b": "#E69F00",  # orange
    "positive": "#009E73",  # bluish green: the shadow falls along a
    "negative": "#D55E00",  # vermillion: the shadow falls against a
    "guide": "#999999",
}

# The arc that marks the angle between the vectors is drawn as a polyline; 41 points
# look smooth at the sizes the chapter uses.
_ARC_POINTS = 41


@dataclass(frozen=True)
class Frame:
    """Everything one position of the explorer shows, as plain Python numbers.

    Attributes
    ----------
    length_a, angle_a, length_b, angle_b : float
        The inputs, with angles wrapped into ``[0, 360)``.
    a, b : tuple of float, shape (2,)
        The two vectors' coordinates.
    dot : float
        ``a·b``, computed from the coordinates (the definition, not the cosine formula).
    cosine : float
        ``a·b / (|a| |b|)``, in ``[-1, 1]``.
    theta : float
        The angle between the vectors in degrees, in ``[0, 180]``.
    scalar_projection : float
        Signed length of ``b``'s shadow on the line through ``a``: ``a·b / |a|``.
        Negative when the shadow falls behind the origin, against ``a``.
    projection : tuple of float, shape (2,)
        That shadow as a vector: ``(a·b / a·a) a``.
    arc : tuple of (float, float)
        Points of a short arc from ``a``'s direction to ``b``'s, marking ``theta``.
    extent : float
        Half-width of a square view, centred on the origin, that holds every element.
    """

    length_a: float
    angle_a: float
    length_b: float
    angle_b: float
    a: tuple[float, float]
    b: tuple[float, float]
    dot: float
    cosine: float
    theta: float
    scalar_projection: float
    projection: tuple[float, float]
    arc: tuple[tuple[float, float], ...]
    extent: float

    def as_dict(self) -> dict:
        """The frame as a dict of floats and lists, ready for ``json.dumps``.

        Examples
        --------
        >>> import json
        >>> d = explorer_frame(1, 0, 1, 90).as_dict()
        >>> json.loads(json.dumps(d))["dot"]
        0.0
        """
        data = asdict(self)
        # JSON has no tuples; lists keep a round trip through json.loads exact.
        data["a"], data["b"], data["projection"] = list(self.a), list(self.b), list(self.projection)
        data["arc"] = [list(p) for p in self.arc]
        return data


def _real(value, name: str) -> float:
    """``value`` as a finite float, or an error that names it."""
    # bool is an int subclass; True as a length is almost certainly a slip.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} must be a real number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}={value!r} must be finite")
    return value


def _positive_length(value, name: str) -> float:
    value = _real(value, name)
    if value <= 0:
        raise ValueError(
            f"{name}={value!r} must be positive: a vector of length 0 has no direction, "
            "so its angle and cosine are undefined (a negative length is an angle of +180°)"
        )
    return value


def _unit(degrees: float) -> tuple[float, float]:
    """``(cos, sin)`` of an angle in degrees, exact at every quarter turn.

    ``math.cos(math.pi / 2)`` is 6.1e-17, not 0, because π/2 is not a float. At the
    angles the chapter tabulates (0°, 90°, 180°, 270°) the exact values are known, so use
    them and let perpendicular vectors have a dot product of exactly 0.
    """
    exact = {0.0: (1.0, 0.0), 90.0: (0.0, 1.0), 180.0: (-1.0, 0.0), 270.0: (0.0, -1.0)}
    if degrees in exact:
        return exact[degrees]
    rad = math.radians(degrees)
    return math.cos(rad), math.sin(rad)


def explorer_frame(length_a, angle_a, length_b, angle_b) -> Frame:
    """The geometry of two 2-D vectors given by length and direction.

    Parameters
    ----------
    length_a, length_b : float
        Lengths ``|a|`` and ``|b|``; positive and finite.
    angle_a, angle_b : float
        Directions in degrees, counter-clockwise from the positive x-axis; any finite
        value (they are wrapped into ``[0, 360)``).

    Returns
    -------
    Frame
        The vectors, ``a·b``, the cosine, the angle between them, the projection of
        ``b`` onto ``a``, and the coordinates a picture needs.

    Raises
    ------
    ValueError
        If a length is zero, negative or not finite, or an angle is not finite; the
        message names the argument and its value.
    TypeError
        If an argument is not a real number.

    Examples
    --------
    >>> f = explorer_frame(2, 0, 3, 60)
    >>> round(f.dot, 6), round(f.cosine, 6), f.theta
    (3.0, 0.5, 60.0)
    >>> round(f.scalar_projection, 6)  # |b| cos θ: b's shadow along a
    1.5
    >>> explorer_frame(2, 0, 3, 180).dot  # opposed: |a| |b| cos 180° = -6
    -6.0
    >>> explorer_frame(0, 0, 1, 0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: length_a=0.0 must be positive: ...
    """
    length_a = _positive_length(length_a, "length_a")
    length_b = _positive_length(length_b, "length_b")
    angle_a = _real(angle_a, "angle_a") % 360.0
    angle_b = _real(angle_b, "angle_b") % 360.0

    ua, ub = _unit(angle_a), _unit(angle_b)
    a = (length_a * ua[0], length_a * ua[1])
    b = (length_b * ub[0], length_b * ub[1])

    # 1. The definition: multiply matching components, add.
    dot = a[0] * b[0] + a[1] * b[1]
    # 2. The geometry: divide out both lengths. Rounding can land a hair outside [-1, 1].
    cosine = max(-1.0, min(1.0, dot / (length_a * length_b)))
    # 3. The angle between them, taken directly from the directions (exact in degrees)
    #    rather than through acos, which loses precision near 0° and 180°.
    turn = (angle_b - angle_a) % 360.0
    theta = min(turn, 360.0 - turn)
    # 4. b's shadow on the line through a: signed length a·b/|a|, vector (a·b/a·a) a.
    scalar_projection = dot / length_a
    scale = dot / (length_a * length_a)
    projection = (scale * a[0], scale * a[1])

    arc = _arc(angle_a, turn, radius=0.3 * min(length_a, length_b))
    reach = [abs(v) for point in (a, b, projection) for v in point]
    extent = 1.15 * max(reach + [0.3 * max(length_a, length_b)])
    return Frame(
        length_a=length_a,
        angle_a=angle_a,
        length_b=length_b,
        angle_b=angle_b,
        a=a,
        b=b,
        dot=dot,
        cosine=cosine,
        theta=theta,
        scalar_projection=scalar_projection,
        projection=projection,
        arc=arc,
        extent=extent,
    )


def _arc(start: float, turn: float, radius: float) -> tuple[tuple[float, float], ...]:
    """Points on the short way round from direction ``start`` by ``turn`` degrees."""
    sweep = turn if turn <= 180.0 else turn - 360.0  # negative: go clockwise
    steps = [start + sweep * i / (_ARC_POINTS - 1) for i in range(_ARC_POINTS)]
    return tuple((radius * math.cos(math.radians(t)), radius * math.sin(math.radians(t))) for t in steps)


def draw_frame(frame: Frame, ax, *, extent: float | None = None, annotate: bool = True):
    """Draw a frame: both vectors, the line through ``a``, ``b``'s shadow on it, the angle.

    Parameters
    ----------
    frame : Frame
        From :func:`explorer_frame`.
    ax : matplotlib.axes.Axes
        Where to draw.
    extent : float, optional
        Half-width of the square view. Defaults to ``frame.extent``; pass a fixed value
        to keep the axes still while sliders move.
    annotate : bool, default True
        Put the dot product, cosine and angle in the title.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, for chaining.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> draw_frame(explorer_frame(2, 0, 3, 60), ax) is ax
    True
    """
    half = frame.extent if extent is None else extent
    ua = (frame.a[0] / frame.length_a, frame.a[1] / frame.length_a)
    shadow_colour = COLOURS["positive"] if frame.dot >= 0 else COLOURS["negative"]

    # The line through a, far past the view, so a shadow behind the origin has a home.
    far = 3 * half
    ax.plot([-far * ua[0], far * ua[0]], [-far * ua[1], far * ua[1]], color=COLOURS["guide"], lw=0.8, ls="--", zorder=1)
    # The drop from b's tip to its shadow meets that line at a right angle.
    ax.plot([frame.b[0], frame.projection[0]], [frame.b[1], frame.projection[1]], color=COLOURS["guide"], lw=1, ls=":", zorder=1)
    ax.plot([0, frame.projection[0]], [0, frame.projection[1]], color=shadow_colour, lw=6, alpha=0.55,
            solid_capstyle="butt", zorder=2, label="shadow of b on a")
    for name in ("a", "b"):
        x, y = getattr(frame, name)
        ax.annotate("", xy=(x, y), xytext=(0, 0), zorder=3,
                    arrowprops=dict(arrowstyle="-|>", color=COLOURS[name], lw=2.2, mutation_scale=16))
        # Put the label just beyond the tip so it never sits on the arrow itself.
        ax.text(x * 1.08, y * 1.08, name, color=COLOURS[name], fontsize=14, fontweight="bold",
                ha="center", va="center", zorder=4)
    xs, ys = zip(*frame.arc)
    # The arc in the style's ink: black by default, and in a house figure
    # (dotlab.figures) the ink that has a dark rendering.
    from matplotlib import rcParams

    ax.plot(xs, ys, color=rcParams["text.color"], lw=1, zorder=3)
    if frame.theta >= 15:  # a narrower angle has no room for its label between the arrows
        mid = frame.arc[len(frame.arc) // 2]
        ax.text(mid[0] * 1.7, mid[1] * 1.7, f"{frame.theta:.0f}°", fontsize=9, ha="center", va="center")

    ax.set_xlim(-half, half)
    ax.set_ylim(-half, half)
    ax.set_aspect("equal")
    ax.axhline(0, color="#dddddd", lw=0.8, zorder=0)
    ax.axvline(0, color="#dddddd", lw=0.8, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if annotate:
        ax.set_title(f"a·b = {frame.dot:.2f}   cos θ = {frame.cosine:.2f}   θ = {frame.theta:.0f}°", fontsize=11)
    return ax


def frame_png(frame: Frame, *, extent: float | None = None, size: float = 4.2, dpi: int = 96) -> bytes:
    """Render a frame to PNG bytes, without pyplot (no global figure state, no display).

    Examples
    --------
    >>> frame_png(explorer_frame(1, 0, 1, 45))[:4]
    b'\\x89PNG'
    """
    from matplotlib.figure import Figure

    # Fixed margins, not a layout engine: constrained layout would double the drawing time,
    # and a slider redraws on every step of a drag.
    fig = Figure(figsize=(size, size), dpi=dpi)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.08, top=0.9)
    draw_frame(frame, fig.subplots(), extent=extent)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def readout_html(frame: Frame) -> str:
    """The explorer's numbers as a small HTML table: both sides of ``a·b = |a||b| cos θ``.

    Examples
    --------
    >>> "a·b" in readout_html(explorer_frame(1, 0, 1, 45))
    True
    """
    def factor(v: float) -> str:  # negatives in parentheses, as a product is written by hand
        return f"({v:.2f})" if v < 0 else f"{v:.2f}"

    products = " + ".join(f"{factor(x)}×{factor(y)}" for x, y in zip(frame.a, frame.b))
    rows = [
        ("a·b (multiply components, add)", f"{products} = <b>{frame.dot:.3f}</b>"),
        ("|a| |b| cos θ", f"{frame.length_a:.2f} × {frame.length_b:.2f} × {frame.cosine:.3f} = <b>{frame.length_a * frame.length_b * frame.cosine:.3f}</b>"),
        ("cos θ", f"{frame.cosine:.3f}"),
        ("θ", f"{frame.theta:.1f}°"),
        ("shadow of b on a, a·b / |a|", f"{frame.scalar_projection:.3f}"),
    ]
    body = "".join(f"<tr><td style='padding-right:1em'>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return f"<table style='font-family:monospace;font-size:0.9em'>{body}</table>"


def _start(length_a, angle_a, length_b, angle_b, max_length) -> tuple[Frame, float]:
    """Validate an explorer's starting position; the frame there, and ``max_length``."""
    max_length = _positive_length(max_length, "max_length")
    # Through the pure function, so a bad value fails here with its name rather than as
    # a slider silently clamping it.
    frame = explorer_frame(length_a, angle_a, length_b, angle_b)
    for name, value in (("length_a", frame.length_a), ("length_b", frame.length_b)):
        if value > max_length:
            raise ValueError(f"{name}={value!r} is longer than max_length={max_length!r}, the end of its slider")
    return frame, max_length


def vector_explorer(length_a=2.0, angle_a=20.0, length_b=1.5, angle_b=75.0, *, max_length=3.0):
    """The explorer as a web component: sliders, picture and numbers computed in the browser.

    It responds on the book's static page (no kernel, no network) and in Jupyter, where
    the cell's HTML output runs the same script. The browser's ``explorerFrame`` is a
    port of :func:`explorer_frame`; the sliders step lengths by 0.1 and angles by 1°.

    Parameters
    ----------
    length_a, angle_a, length_b, angle_b : float
        Starting position; same meaning as in :func:`explorer_frame`.
    max_length : float, default 3.0
        Upper end of the length sliders; also fixes the view so the axes stay still.

    Returns
    -------
    dotlab.static_widgets.StaticWidget
        Displays itself as the last expression of a cell.

    Raises
    ------
    ValueError
        If a starting value is out of range (see :func:`explorer_frame`), or a starting
        length exceeds ``max_length``.

    Examples
    --------
    >>> w = vector_explorer(length_a=2, angle_a=0, length_b=3, angle_b=60)
    >>> w.component, w.config["angle_b"], w.config["max_length"]
    ('vector-explorer', 60.0, 3.0)
    >>> vector_explorer(length_a=4)
    Traceback (most recent call last):
    ...
    ValueError: length_a=4.0 is longer than max_length=3.0, the end of its slider
    """
    from dotlab.static_widgets import StaticWidget

    frame, max_length = _start(length_a, angle_a, length_b, angle_b, max_length)
    config = {"length_a": frame.length_a, "angle_a": frame.angle_a, "length_b": frame.length_b,
              "angle_b": frame.angle_b, "max_length": max_length}
    return StaticWidget("vector-explorer", config, summary=(
        f"Two vectors a (length {frame.length_a:g}, at {frame.angle_a:g}°) and b (length {frame.length_b:g}, "
        f"at {frame.angle_b:g}°) with sliders for each; a·b = {frame.dot:.3f}, cos θ = {frame.cosine:.3f}."))


class VectorExplorer:
    """Sliders for two 2-D vectors, a live picture, and the numbers underneath (ipywidgets).

    Moving a slider recomputes :func:`explorer_frame` in the Python kernel and redraws,
    and :attr:`frame` always holds the current frame. It needs a running kernel; a web
    page should show :func:`vector_explorer`, which computes in the browser.
    The widgets themselves are in :attr:`widget`; a notebook displays the explorer
    directly when it is the last expression of a cell.

    Parameters
    ----------
    length_a, angle_a, length_b, angle_b : float
        Starting position; same meaning as in :func:`explorer_frame`.
    max_length : float, default 3.0
        Upper end of the length sliders; also fixes the view so the axes stay still.

    Raises
    ------
    ValueError
        If a starting value is out of range (see :func:`explorer_frame`), or a starting
        length exceeds ``max_length`` (a slider would silently clamp it).

    Examples
    --------
    >>> ex = VectorExplorer(length_a=2, angle_a=0, length_b=3, angle_b=60)
    >>> round(ex.frame.dot, 6)
    3.0
    >>> ex.angle_b.value = 90   # what a reader's drag does
    >>> ex.frame.dot
    0.0
    """

    def __init__(self, length_a=2.0, angle_a=20.0, length_b=1.5, angle_b=75.0, *, max_length=3.0):
        # Imported here, not at the top, so the pure geometry above needs only the
        # standard library (a browser-side Python can import this module without widgets).
        import ipywidgets as w

        self.frame, max_length = _start(length_a, angle_a, length_b, angle_b, max_length)
        self._extent = 1.15 * max_length
        style = {"description_width": "7em"}
        layout = w.Layout(width="22em")

        def slider(description, value, low, high, step):
            return w.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                                 continuous_update=True, readout_format=".1f", style=style, layout=layout)

        self.length_a = slider("length of a", length_a, 0.1, max_length, 0.1)
        # Degrees from -180 to 180 read more naturally than 0..360 for "left of a" vs "right of a".
        self.angle_a = slider("angle of a (°)", ((self.frame.angle_a + 180) % 360) - 180, -180, 180, 1)
        self.length_b = slider("length of b", length_b, 0.1, max_length, 0.1)
        self.angle_b = slider("angle of b (°)", ((self.frame.angle_b + 180) % 360) - 180, -180, 180, 1)
        self.image = w.Image(format="png", layout=w.Layout(width="380px"))
        self.readout = w.HTML()
        controls = w.VBox([self.length_a, self.angle_a, self.length_b, self.angle_b, self.readout])
        self.widget = w.HBox([controls, self.image], layout=w.Layout(flex_flow="row wrap", align_items="center"))
        for s in (self.length_a, self.angle_a, self.length_b, self.angle_b):
            s.observe(self._update, names="value")
        self._update()

    def _update(self, _change=None) -> None:
        self.frame = explorer_frame(self.length_a.value, self.angle_a.value, self.length_b.value, self.angle_b.value)
        self.image.value = frame_png(self.frame, extent=self._extent)
        self.readout.value = readout_html(self.frame)

    def _repr_mimebundle_(self, **kwargs):
        # Jupyter asks any object for this; handing over the widget's bundle makes
        # `VectorExplorer()` on a cell's last line display the live controls.
        return self.widget._repr_mimebundle_(**kwargs)

"""Explorers that run in the reader's browser: in the static book with no kernel, and in Jupyter.

An ipywidgets explorer needs a running Python kernel: on the book's web page its
sliders slide but nothing recomputes. The explorers here are computed by a small
JavaScript file shipped with the package (``static_widgets.js``), so they respond on
the static page, offline, and in Jupyter too (a trusted ``text/html`` output runs its
scripts; a notebook you ran yourself is trusted).

Two ways to make one, both from Python, both displayed by ending a cell with the object:

1. **Computed in the browser.** The browser port of a pure function, driven by sliders.
   :func:`softmax_explorer` (chapter 4's temperature) is one; chapter 1's
   :func:`dotlab.explorer.vector_explorer` is another. The port follows the Python
   function line by line and ``tests/test_browser.py`` compares the two on the same
   inputs.
2. **Precomputed.** :func:`precomputed` renders one picture per setting of its controls
   with Python (matplotlib, anything) and embeds them all; the browser only switches
   between them. Use it when the picture needs NumPy (chapter 4's ``d_k`` histogram).

Every explorer is a :class:`StaticWidget`: the name of a component in
``static_widgets.js`` and a JSON config for it.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = ["COMPONENTS", "Choice", "StaticWidget", "View", "precomputed", "softmax_explorer"]

_JS_PATH = Path(__file__).with_name("static_widgets.js")

#: Components the script defines (``COMPONENTS`` in ``static_widgets.js``).
COMPONENTS = ("vector-explorer", "softmax-temperature", "precomputed")


@lru_cache(maxsize=1)
def _script() -> str:
    source = _JS_PATH.read_text(encoding="utf-8")
    if "</script" in source.lower():  # would end the inline <script> early
        raise ValueError(f"{_JS_PATH} must not contain '</script'")
    return source


def _json_for_html(data) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` survive."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass(frozen=True)
class StaticWidget:
    """One explorer: a component of ``static_widgets.js`` and its configuration.

    Displaying it (the last expression of a cell) emits an HTML block with the config
    and the script inline, so the page needs no other file.

    Parameters
    ----------
    component : str
        One of :data:`COMPONENTS`.
    config : dict
        Plain JSON data for the component (finite numbers, strings, lists, dicts).
    summary : str
        What the explorer shows, in one sentence: the text shown where scripts do not
        run, and the notebook's ``text/plain`` output.

    Examples
    --------
    >>> w = StaticWidget("softmax-temperature", {"scores": [1, 2]}, "Softmax weights.")
    >>> html_text = w.to_html()
    >>> 'data-component="softmax-temperature"' in html_text, "<script>" in html_text
    (True, True)
    >>> StaticWidget("slideshow", {}, "?")
    Traceback (most recent call last):
    ...
    ValueError: component='slideshow' is not one of ('vector-explorer', 'softmax-temperature', 'precomputed')
    """

    component: str
    config: dict = field(repr=False)
    summary: str = ""

    def __post_init__(self):
        if self.component not in COMPONENTS:
            raise ValueError(f"component={self.component!r} is not one of {COMPONENTS}")
        _json_for_html(self.config)  # fail now, by name, on data JSON cannot carry (NaN, arrays)

    def to_html(self) -> str:
        """The explorer as one self-contained HTML block."""
        fallback = (
            f"{html.escape(self.summary)} (This explorer runs in JavaScript: in Jupyter, "
            "run the cell or trust the notebook to see it.)"
        )
        return (
            f'<div class="dotlab-widget" data-component="{self.component}">'
            f'<script type="application/json">{_json_for_html(self.config)}</script>'
            f'<p class="dotlab-fallback">{fallback}</p></div>\n'
            f"<script>{_script()}</script>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.to_html(), "text/plain": self.summary or f"<{self.component} explorer>"}


# -- computed in the browser -------------------------------------------------------------


def _finite(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} must be a real number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name}={value!r} must be finite")
    return float(value)


def softmax_explorer(scores, labels: Sequence[str] | None = None, *, temperature: float = 1.0,
                     t_min: float = 0.05, t_max: float = 20.0) -> StaticWidget:
    """A temperature slider over softmax weights of fixed scores (chapter 4).

    The browser computes ``softmax(scores, temperature=τ)`` and its entropy exactly as
    :func:`dotlab.softmax.softmax` and :func:`dotlab.softmax.entropy` do; the slider
    moves ``τ`` on a log scale from ``t_min`` to ``t_max``.

    Parameters
    ----------
    scores : sequence of float, shape (n,)
        Finite scores (logits).
    labels : sequence of str, optional
        One name per score; default ``"0"``, ``"1"``, ...
    temperature : float, default 1.0
        Where the slider starts.
    t_min, t_max : float
        The slider's ends; ``0 < t_min <= temperature <= t_max``.

    Returns
    -------
    StaticWidget

    Raises
    ------
    ValueError
        If a score is not finite, the labels do not match the scores in number, or the
        temperatures are out of order.
    TypeError
        If a score or temperature is not a real number.

    Examples
    --------
    >>> w = softmax_explorer([2.0, 1.0, 0.1], ["cat", "dog", "car"], temperature=0.5)
    >>> w.config["temperature"], w.config["labels"]
    (0.5, ['cat', 'dog', 'car'])
    >>> softmax_explorer([1.0, 2.0], ["only one"])
    Traceback (most recent call last):
    ...
    ValueError: 1 labels for 2 scores: give one label per score
    """
    scores = [_finite(s, f"scores[{i}]") for i, s in enumerate(scores)]
    if not scores:
        raise ValueError("scores is empty: softmax needs at least one score")
    labels = [str(i) for i in range(len(scores))] if labels is None else [str(x) for x in labels]
    if len(labels) != len(scores):
        raise ValueError(f"{len(labels)} labels for {len(scores)} scores: give one label per score")
    t_min, temperature, t_max = (_finite(v, n) for v, n in ((t_min, "t_min"), (temperature, "temperature"), (t_max, "t_max")))
    if not 0 < t_min <= temperature <= t_max:
        raise ValueError(f"need 0 < t_min <= temperature <= t_max, got t_min={t_min}, temperature={temperature}, t_max={t_max}")
    return StaticWidget(
        "softmax-temperature",
        {"scores": scores, "labels": labels, "temperature": temperature, "t_min": t_min, "t_max": t_max},
        summary=f"Softmax weights of the scores {scores} at a temperature set by a slider.",
    )


# -- precomputed ------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One control of a :func:`precomputed` explorer: a name and the values it steps through.

    Options ``(False, True)`` make a checkbox; anything else a slider over the options
    in order.

    Parameters
    ----------
    name : str
        The keyword the render function receives.
    options : sequence
        The values, in slider order.
    value : optional
        Where the control starts; default the first option.
    label : str, optional
        What the reader sees; default ``name``.

    Examples
    --------
    >>> Choice("d_k", (1, 2, 4), value=2).start
    1
    >>> Choice("d_k", (1, 2, 4), value=3)
    Traceback (most recent call last):
    ...
    ValueError: value=3 is not one of the options (1, 2, 4) of d_k
    """

    name: str
    options: tuple
    value: object = None
    label: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "options", tuple(self.options))
        if not self.options:
            raise ValueError(f"{self.name} has no options")
        if self.value is not None and self.value not in self.options:
            raise ValueError(f"value={self.value!r} is not one of the options {self.options} of {self.name}")

    @property
    def start(self) -> int:
        """Index of the starting option."""
        return 0 if self.value is None else self.options.index(self.value)

    @property
    def is_toggle(self) -> bool:
        return self.options == (False, True)


@dataclass(frozen=True)
class View:
    """What a :func:`precomputed` explorer shows for one setting.

    Parameters
    ----------
    image : bytes or str
        PNG bytes (e.g. from ``fig.savefig(buf, format="png")``) or an SVG document.
    alt : str
        Alt text for this picture: what it shows, with its numbers.
    readout : str, optional
        A little HTML shown under the picture (numbers for this setting).
    dark : bytes or str, optional
        The same picture drawn for the dark theme (as :mod:`dotlab.figures` draws
        every figure of the book in both): shown instead of ``image`` when the book,
        or JupyterLab, is dark. Without it, the light picture keeps a light backdrop.

    Examples
    --------
    >>> View(b"\\x89PNG...", alt="a picture").src()[:22]
    'data:image/png;base64,'
    >>> View("<svg/>", alt="a picture", dark="<svg id='d'/>").src(dark=True)[:26]
    'data:image/svg+xml;base64,'
    >>> View("<svg/>", alt="a picture").src(dark=True)
    Traceback (most recent call last):
    ...
    ValueError: this View has no dark picture
    """

    image: bytes | str
    alt: str
    readout: str = ""
    dark: bytes | str | None = None

    def src(self, dark: bool = False) -> str:
        """The picture (or its dark rendering) as a ``data:`` URL."""
        image = self.dark if dark else self.image
        if image is None:
            raise ValueError("this View has no dark picture")
        if isinstance(image, bytes) and image[:4] == b"\x89PNG":
            kind, data = "image/png", image
        elif isinstance(image, str) and "<svg" in image[:500]:
            kind, data = "image/svg+xml", image.encode("utf-8")
        else:
            raise TypeError(f"image must be PNG bytes or an SVG string, not {type(image).__name__} "
                            f"starting {image[:12]!r}")
        return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def precomputed(choices: Sequence[Choice], render: Callable[..., View], *, summary: str = "",
                width: float | None = None) -> StaticWidget:
    """Render a picture for every combination of the controls' options and embed them all.

    ``render`` is called once per combination with one keyword per choice and returns a
    :class:`View`. Every picture is in the page, so the number of combinations times
    the size of one picture is what the page weighs: keep pictures small (PNG at a low
    dpi, or a palette PNG) and combinations few (dozens, not thousands). Views with a
    ``dark`` picture (every view, or none) show it in the dark theme.

    ``width`` is the width in CSS px the pictures were drawn for (a PNG at twice the
    pixel density is half its pixels wide): they are shown at that width, or the
    column's if narrower, and the browser suite fails a picture shown below 60 % of it,
    as it does any figure. Without it a picture fills the explorer (at most 640 px).

    Examples
    --------
    >>> import io
    >>> from matplotlib.figure import Figure
    >>> def render(n, squared):
    ...     fig = Figure(figsize=(2, 1), dpi=40)
    ...     fig.subplots().bar(range(n), [i**2 if squared else i for i in range(n)])
    ...     buf = io.BytesIO(); fig.savefig(buf, format="png")
    ...     return View(buf.getvalue(), alt=f"{n} bars", readout=f"n = {n}")
    >>> w = precomputed([Choice("n", (2, 3, 4)), Choice("squared", (False, True))], render)
    >>> sorted(w.config["frames"])
    ['0|0', '0|1', '1|0', '1|1', '2|0', '2|1']
    """
    choices = list(choices)
    names = [c.name for c in choices]
    if len(set(names)) != len(names):
        raise ValueError(f"choice names must differ, got {names}")
    frames, dark = {}, set()
    for combo in itertools.product(*(range(len(c.options)) for c in choices)):
        view = render(**{c.name: c.options[i] for c, i in zip(choices, combo)})
        if not isinstance(view, View):
            raise TypeError(f"render must return a View, not {type(view).__name__}")
        if not view.alt.strip():
            raise ValueError(f"the View for {dict(zip(names, combo))} has no alt text")
        frame = {"src": view.src(), "alt": view.alt, "readout": view.readout}
        if view.dark is not None:
            frame["dark"] = view.src(dark=True)
        dark.add(view.dark is not None)
        frames["|".join(map(str, combo))] = frame
    if len(dark) > 1:  # a theme switch would show some settings dark and others light
        raise ValueError("some Views have a dark picture and others not: give every View one, or none")
    if width is not None and not (isinstance(width, numbers.Real) and 0 < width <= 2000):
        raise ValueError(f"width={width!r} must be the CSS width in px the pictures were drawn for")
    config = {
        "choices": [
            {"name": c.name, "label": c.label or c.name, "kind": "toggle" if c.is_toggle else "slider",
             "labels": [str(o) for o in c.options], "value": c.start}
            for c in choices
        ],
        "frames": frames,
    }
    if width is not None:
        config["width"] = float(width)
    return StaticWidget("precomputed", config, summary=summary or f"Pictures for each setting of {', '.join(names)}.")

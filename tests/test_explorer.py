"""dotlab.explorer: the explorer's geometry is right, bad input is refused by name, and
the widget builds and responds without a browser or a kernel."""

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dotlab import dot, norm, project
from dotlab.explorer import VectorExplorer, explorer_frame, frame_png, readout_html, vector_explorer

lengths = st.floats(min_value=0.01, max_value=100, allow_nan=False)
angles = st.floats(min_value=-720, max_value=720, allow_nan=False)


# -- the three angles chapter 1 tabulates --------------------------------------------


@pytest.mark.parametrize("la, lb", [(1, 1), (2, 3), (0.5, 4)])
def test_same_direction_gives_the_product_of_lengths(la, lb):
    f = explorer_frame(la, 30, lb, 30)
    assert f.dot == pytest.approx(la * lb)
    assert f.cosine == pytest.approx(1.0)
    assert f.theta == 0.0
    assert f.scalar_projection == pytest.approx(lb)  # b lies along a: its whole length is shadow
    assert f.projection == pytest.approx(f.b)


@pytest.mark.parametrize("la, lb", [(1, 1), (2, 3), (0.5, 4)])
def test_perpendicular_gives_exactly_zero(la, lb):
    f = explorer_frame(la, 0, lb, 90)
    assert f.dot == 0.0  # exact at a quarter turn, not 6e-17
    assert f.cosine == 0.0
    assert f.theta == 90.0
    assert f.projection == (0.0, 0.0)


@pytest.mark.parametrize("la, lb", [(1, 1), (2, 3), (0.5, 4)])
def test_opposed_gives_minus_the_product_of_lengths(la, lb):
    f = explorer_frame(la, 0, lb, 180)
    assert f.dot == -la * lb
    assert f.cosine == -1.0
    assert f.theta == 180.0
    assert f.scalar_projection == -lb  # the shadow points against a
    assert f.projection == pytest.approx(f.b)


def test_sixty_degrees_halves_the_product():
    f = explorer_frame(2, 10, 3, 70)
    assert f.dot == pytest.approx(3.0)
    assert f.cosine == pytest.approx(0.5)
    assert f.theta == pytest.approx(60.0)


def test_angle_between_is_the_short_way_round():
    assert explorer_frame(1, 350, 1, 10).theta == pytest.approx(20.0)
    assert explorer_frame(1, 10, 1, 350).theta == pytest.approx(20.0)
    assert explorer_frame(1, -90, 1, 90).theta == pytest.approx(180.0)


# -- agreement with the chapter's own functions ----------------------------------------


@given(lengths, angles, lengths, angles)
def test_agrees_with_dotlab(la, aa, lb, ab):
    f = explorer_frame(la, aa, lb, ab)
    a, b = np.array(f.a), np.array(f.b)
    scale = la * lb
    assert norm(a) == pytest.approx(la)
    assert norm(b) == pytest.approx(lb)
    assert f.dot == pytest.approx(dot(a, b), abs=1e-12 * scale)
    assert f.cosine == pytest.approx(math.cos(math.radians(f.theta)), abs=1e-9)
    assert f.dot == pytest.approx(la * lb * f.cosine, abs=1e-9 * scale)  # a·b = |a||b|cos θ
    np.testing.assert_allclose(f.projection, project(b, a), atol=1e-9 * max(la, lb))
    assert -1.0 <= f.cosine <= 1.0
    assert 0.0 <= f.theta <= 180.0


@given(lengths, angles, lengths, angles)
def test_the_view_holds_everything(la, aa, lb, ab):
    f = explorer_frame(la, aa, lb, ab)
    points = [f.a, f.b, f.projection, *f.arc]
    assert max(abs(v) for p in points for v in p) <= f.extent


def test_frame_is_plain_json():
    d = explorer_frame(2, 0, 3, 60).as_dict()
    assert json.loads(json.dumps(d)) == d
    assert set(d) >= {"a", "b", "dot", "cosine", "theta", "projection", "scalar_projection", "arc", "extent"}


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, names",
    [
        (dict(length_a=0), ("length_a", "0")),
        (dict(length_b=-2), ("length_b", "-2")),
        (dict(length_a=float("inf")), ("length_a", "inf")),
        (dict(length_b=float("nan")), ("length_b", "nan")),
        (dict(angle_a=float("nan")), ("angle_a", "nan")),
        (dict(angle_b=float("-inf")), ("angle_b", "inf")),
    ],
)
def test_bad_values_raise_valueerror_naming_them(kwargs, names):
    args = dict(length_a=1.0, angle_a=0.0, length_b=1.0, angle_b=45.0) | kwargs
    with pytest.raises(ValueError) as info:
        explorer_frame(**args)
    for name in names:
        assert name in str(info.value)


@pytest.mark.parametrize("bad", ["2", None, True, 1j])
def test_non_numbers_raise_typeerror_naming_them(bad):
    with pytest.raises(TypeError, match="length_a"):
        explorer_frame(bad, 0, 1, 0)


# -- the picture and the widget ---------------------------------------------------------


def test_png_and_readout_render():
    f = explorer_frame(2, 0, 3, 120)
    assert frame_png(f).startswith(b"\x89PNG")
    html = readout_html(f)
    assert f"{f.dot:.3f}" in html and f"{f.cosine:.3f}" in html


def test_widget_builds_without_a_display_and_follows_its_sliders():
    ex = VectorExplorer(length_a=2, angle_a=0, length_b=3, angle_b=60)
    first_png = bytes(ex.image.value)  # ipywidgets keeps it as a memoryview
    assert first_png.startswith(b"\x89PNG")
    assert ex.frame.dot == pytest.approx(3.0)

    ex.angle_b.value = 180
    assert ex.frame.dot == pytest.approx(-6.0)
    assert bytes(ex.image.value) != first_png
    assert f"{-6.0:.3f}" in ex.readout.value

    ex.length_a.value = 1.0
    assert ex.frame.dot == pytest.approx(-3.0)
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_widget_refuses_a_start_its_sliders_cannot_show():
    with pytest.raises(ValueError, match="length_b"):
        VectorExplorer(length_b=5, max_length=3)
    with pytest.raises(ValueError, match="length_a"):
        VectorExplorer(length_a=0)


# -- the web explorer (computed in the browser; tests/test_browser.py drives it) ------------


def test_web_explorer_carries_its_start_as_json():
    w = vector_explorer(length_a=2, angle_a=-30, length_b=1.5, angle_b=400, max_length=2.5)
    assert w.component == "vector-explorer"
    # angles wrapped as explorer_frame wraps them, so both sides start from the same frame
    assert w.config == {"length_a": 2.0, "angle_a": 330.0, "length_b": 1.5, "angle_b": 40.0, "max_length": 2.5}
    html = w.to_html()
    config = re.search(r'<script type="application/json">(.*?)</script>', html).group(1)
    assert json.loads(config) == w.config
    assert "dotlabWidgets" in html  # the script is inline: the page needs no other file
    bundle = w._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert "a·b = " in bundle["text/plain"]


@pytest.mark.parametrize("kwargs, name", [(dict(length_a=3.5), "length_a"), (dict(length_b=0), "length_b"),
                                          (dict(angle_a=float("nan")), "angle_a"), (dict(max_length=-1), "max_length")])
def test_web_explorer_refuses_a_start_its_sliders_cannot_show(kwargs, name):
    with pytest.raises(ValueError, match=name):
        vector_explorer(**kwargs)

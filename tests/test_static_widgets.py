"""dotlab.static_widgets, the Python half: configs are plain JSON, HTML is self-contained and
safe, bad input is refused by name. tests/test_browser.py runs the JavaScript half."""

import io
import json
import re

import pytest
from matplotlib.figure import Figure

from dotlab.static_widgets import COMPONENTS, Choice, StaticWidget, View, _script, precomputed, softmax_explorer


def _config(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json">(.*?)</script>', html, re.S).group(1))


def _png(n: int) -> bytes:
    fig = Figure(figsize=(1, 1), dpi=20)
    fig.subplots().bar(range(n), range(n))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_every_component_is_defined_in_the_script():
    script = _script()
    defined = re.search(r"var COMPONENTS = \{(.*?)\};", script).group(1)
    assert set(re.findall(r'"([\w-]+)":', defined)) == set(COMPONENTS)


def test_config_cannot_break_out_of_its_script_element():
    w = StaticWidget("softmax-temperature", {"labels": ["</script><script>alert(1)</script>", "a & b"]}, "x")
    html = w.to_html()
    assert html.count("</script>") == 2  # the config's and the runtime's, nothing from the data
    assert _config(html) == w.config


def test_data_json_cannot_carry_is_refused_at_once():
    with pytest.raises(ValueError):
        StaticWidget("softmax-temperature", {"scores": [float("nan")]}, "x")


def test_fallback_text_is_escaped():
    assert "&lt;b&gt;" in StaticWidget("precomputed", {}, "<b>").to_html()


def test_softmax_explorer_config():
    w = softmax_explorer([3, 1], temperature=2, t_min=0.5, t_max=4)
    assert _config(w.to_html()) == {"scores": [3.0, 1.0], "labels": ["0", "1"], "temperature": 2.0,
                                    "t_min": 0.5, "t_max": 4.0}


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(scores=[1.0, float("inf")]), "scores[1]"),
    (dict(scores=[]), "empty"),
    (dict(scores=[1.0], temperature=0), "temperature"),
    (dict(scores=[1.0], temperature=50), "t_max=20"),
])
def test_softmax_explorer_refuses_bad_input_by_name(kwargs, fragment):
    with pytest.raises(ValueError) as info:
        softmax_explorer(**kwargs)
    assert fragment in str(info.value)


def test_softmax_explorer_refuses_non_numbers():
    with pytest.raises(TypeError, match=r"scores\[0\]='1'"):
        softmax_explorer(["1"])


def test_precomputed_renders_every_combination_once():
    calls = []

    def render(n, flag):
        calls.append((n, flag))
        return View(_png(n), alt=f"{n} bars, flag {flag}", readout=f"<b>{n}</b>")

    w = precomputed([Choice("n", (1, 2, 3), value=2), Choice("flag", (False, True))], render)
    assert sorted(calls) == sorted((n, f) for n in (1, 2, 3) for f in (False, True))
    config = _config(w.to_html())
    assert config["choices"] == [
        {"name": "n", "label": "n", "kind": "slider", "labels": ["1", "2", "3"], "value": 1},
        {"name": "flag", "label": "flag", "kind": "toggle", "labels": ["False", "True"], "value": 0},
    ]
    assert config["frames"]["2|1"]["alt"] == "3 bars, flag True"
    assert config["frames"]["0|0"]["src"].startswith("data:image/png;base64,")


def test_precomputed_takes_svg():
    w = precomputed([Choice("k", (1,))], lambda k: View('<svg xmlns="http://www.w3.org/2000/svg"/>', alt="empty"))
    assert w.config["frames"]["0"]["src"].startswith("data:image/svg+xml;base64,")


@pytest.mark.parametrize("view, error", [
    (View(b"GIF89a", alt="x"), TypeError),
    (View(_png(1), alt="  "), ValueError),  # every picture needs alt text
    ("not a view", TypeError),
])
def test_precomputed_refuses_bad_views(view, error):
    with pytest.raises(error):
        precomputed([Choice("k", (1, 2))], lambda k: view)


def test_choice_names_must_differ():
    with pytest.raises(ValueError, match="differ"):
        precomputed([Choice("k", (1,)), Choice("k", (2,))], lambda k: None)


def test_precomputed_carries_each_views_dark_picture_and_refuses_half_a_set():
    w = precomputed([Choice("n", (1, 2))], lambda n: View(_png(n), alt=f"{n} bars", dark=_png(n + 2)))
    frames = w.config["frames"]
    assert all(f["dark"].startswith("data:image/png;base64,") and f["dark"] != f["src"] for f in frames.values())
    light_only = precomputed([Choice("n", (1, 2))], lambda n: View(_png(n), alt=f"{n} bars"))
    assert not any("dark" in f for f in light_only.config["frames"].values())
    # A theme switch must not show some settings dark and others light.
    with pytest.raises(ValueError, match="every View one, or none"):
        precomputed([Choice("n", (1, 2))], lambda n: View(_png(n), alt="bars", dark=_png(3) if n == 2 else None))


def test_precomputed_states_the_width_its_pictures_were_drawn_for():
    w = precomputed([Choice("n", (1, 2))], lambda n: View(_png(n), alt=f"{n} bars"), width=403.2)
    assert w.config["width"] == 403.2
    assert "width" not in precomputed([Choice("n", (1,))], lambda n: View(_png(n), alt="bars")).config
    for bad in (0, -5, "400px", 1e6):
        with pytest.raises(ValueError, match="width="):
            precomputed([Choice("n", (1,))], lambda n: View(_png(n), alt="bars"), width=bad)


def test_explorers_in_the_dark_theme_take_the_dark_variants_the_figures_use():
    from dotlab import figures

    block = re.search(r"var DARK = \{(.*?)\};", _script(), re.S).group(1)
    dark = dict(re.findall(r'"(#[0-9a-fA-F]{6})": "(#[0-9a-fA-F]{6})"', block))
    colours = dict(re.findall(r'(\w+): "(#[0-9A-Fa-f]{6})"', re.search(r"var COLOURS = \{(.*?)\};", _script(), re.S).group(1)))
    assert set(colours.values()) <= set(dark), "every explorer colour has a dark variant"
    for light, variant in dark.items():
        if light == "#dddddd":  # the axes: a grey darker than the ink, lighter than the box
            assert "#3b3b3b" < variant < figures.DARK_OF[figures.MUTED], variant
            continue
        expected = figures.DARK_OF.get(light.lower())
        if light.lower() == "#999999":  # the guide: the house's muted grey in the dark
            expected = figures.DARK_OF[figures.MUTED]
        assert variant == expected, (light, variant, expected)

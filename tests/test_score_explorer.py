"""dotlab.score_explorer: the d_k explorer's panels are pure, spread like sqrt(d_k), redraw, and come light and dark."""

import io

import numpy as np
import pytest

from dotlab import figures
from dotlab.score_explorer import PanelPainter, ScoreExplorer, panel_colours, panel_png, score_panel


def test_score_panel_is_pure_and_spread_like_root_d():
    a, b = score_panel(256, scaled=False), score_panel(256, scaled=False)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.std == pytest.approx(16, rel=0.1)
    c = score_panel(256, scaled=True)
    np.testing.assert_allclose(c.scores * 16, a.scores)
    assert c.weights.sum() == pytest.approx(1.0) and c.entropy > a.entropy
    assert panel_png(c)[:4] == b"\x89PNG"


def test_explorer_redraws_on_change():
    ex = ScoreExplorer(d_k=4, scaled=True)
    first = ex.image.value
    ex.d_k.value = 1024
    ex.scaled.value = False
    assert (ex.panel.d_k, ex.panel.scaled) == (1024, False) and ex.image.value != first
    with pytest.raises(ValueError, match="d_k=3"):
        ScoreExplorer(d_k=3)


def _colours_in(png: bytes) -> list[tuple[int, int, int]]:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGBA")
    return [rgba[:3] for _, rgba in image.getcolors(1 << 16) if rgba[3] >= 250]


def _has(found, colour: str, within: int = 4) -> bool:
    """Whether a colour was drawn, give or take the PNG palette's rounding."""
    rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return any(max(abs(a - b) for a, b in zip(rgb, c)) <= within for c in found)


def test_the_painter_draws_each_theme_in_the_house_colours():
    # The d_k explorer's pictures, light and dark, as every house figure is drawn:
    # bars and histogram in the theme's variant of each hue, ink of the theme, and a
    # transparent background that takes the page's colour.
    from PIL import Image

    panel = score_panel(64, scaled=True)
    for theme in ("light", "dark"):
        png = PanelPainter(dpi=96, theme=theme).png(panel)
        found, wanted = _colours_in(png), panel_colours(theme)
        other = panel_colours("dark" if theme == "light" else "light")
        for role in ("scores", "weights"):
            assert _has(found, wanted[role]) and not _has(found, other[role]), (theme, role, found[:20])
        assert _has(found, figures.colours(theme)["ink"], within=12), (theme, found[:20])
        corner = Image.open(io.BytesIO(png)).convert("RGBA").getpixel((0, 0))
        assert corner[3] == 0, f"{theme}: the background is {corner}, not transparent"
    with pytest.raises(ValueError, match="theme='sepia'"):
        panel_colours("sepia")


def test_stacked_panels_make_a_picture_for_a_phones_column():
    from PIL import Image

    png = PanelPainter(dpi=40, figsize=(4.2, 5.0), theme="light", stacked=True).png(score_panel(16, scaled=False))
    assert Image.open(io.BytesIO(png)).size == (168, 200)  # 4.2 x 5 in at 40 dpi: portrait

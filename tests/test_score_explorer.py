"""dotlab.score_explorer: the d_k explorer's panels are pure, spread like sqrt(d_k), and redraw."""

import numpy as np
import pytest

from dotlab.score_explorer import ScoreExplorer, panel_png, score_panel


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

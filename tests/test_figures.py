"""The house figure (dotlab.figures): drawn for the column, light and dark."""

import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from dotlab import figures  # noqa: E402


@pytest.fixture
def house():
    with plt.rc_context(figures.style()):
        yield
    plt.close("all")


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def test_a_house_figure_is_drawn_at_the_column_width_and_tagged(house):
    fig, ax = figures.subplots()
    ax.plot([0, 1], [0, 1])
    assert not figures.is_house_svg(_svg(fig)), "only figures.svg/show tag a figure"
    svg = figures.svg(fig)
    assert figures.is_house_svg(svg)
    # 5.8 in = 557 CSS px: 61 % of itself in a 342 px phone column, 100 % on a desktop
    assert figures.svg_width_px(svg) == pytest.approx(figures.COLUMN_WIDTH_IN * 96)
    assert 342 / figures.svg_width_px(svg) >= 0.6


def test_the_smallest_text_is_the_body_small_print(house):
    fig, ax = figures.subplots()
    ax.plot([0, 1], [0, 1], label="line")
    ax.legend()
    figures.check(fig)  # ticks and legend at SMALL_PT pass
    assert figures.SMALL_PT * 96 / 72 >= 14  # 14 px: the body's small print


def test_check_names_the_text_that_is_too_small_and_a_figure_too_wide(house):
    fig, ax = figures.subplots()
    ax.annotate("note", (0.5, 0.5), fontsize=7)
    with pytest.raises(ValueError, match=r"'note' at 7.0 pt"):
        figures.check(fig)
    wide = plt.figure(figsize=(11, 4))
    with pytest.raises(ValueError, match=r"11.00 in wide"):
        figures.check(wide)


def test_subplots_refuses_more_than_three_panels_across_or_a_wider_figure(house):
    with pytest.raises(ValueError, match="ncols=6"):
        figures.subplots(2, 6)
    with pytest.raises(ValueError, match="width=8"):
        figures.subplots(width=8)


def test_dark_rendering_swaps_every_house_colour_and_keeps_the_rest(house):
    fig, ax = figures.subplots()
    for k in range(3):
        ax.plot([0, 1], [k, k + 1])
    ax.set_title("three lines")
    ax.grid(True)
    light = figures.svg(fig)
    dark = figures.dark_svg(light)
    used = {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}", light)}
    assert {figures.INK, figures.GRID, *figures.PALETTE[:3]} <= used
    left = {c.lower() for c in re.findall(r"#[0-9a-fA-F]{6}", dark)} & set(figures.DARK_OF) - set(
        figures.DARK_OF.values())
    assert not left, f"light colours left in the dark rendering: {left}"
    assert dark.replace(figures.DARK_OF[figures.INK], "") != light


def test_dark_rendering_refuses_a_figure_not_drawn_in_the_house_style():
    fig = plt.figure(figsize=(2, 1))
    with pytest.raises(ValueError, match="not a house figure"):
        figures.dark_svg(_svg(fig))
    plt.close(fig)


def test_png_is_twice_the_css_density(house):
    fig = plt.figure(figsize=(3, 1))
    data = figures.png(fig)
    width = int.from_bytes(data[16:20], "big")
    assert width == 3 * 96 * 2


def test_unknown_theme_is_named():
    with pytest.raises(ValueError, match="theme='sepia'"):
        figures.style("sepia")


def test_collisions_find_labels_drawn_over_each_other_or_cut_off(house):
    # Labels placed at data points, as chapter 9's recall figure once placed them (two
    # points close together), and a note placed past the figure's right edge.
    fig, ax = figures.subplots()
    ax.plot([0.86, 0.98, 0.981, 1.0], [1e5, 9e3, 8.5e3, 4e3], "o-")
    for x, y, n in [(0.86, 1e5, "295"), (0.98, 9e3, "5,160"), (0.981, 8.5e3, "642")]:
        ax.annotate(n, (x, y), textcoords="offset points", xytext=(4, -14), fontsize=figures.SMALL_PT)
    fig.text(0.97, 0.5, "a note at the edge", fontsize=figures.SMALL_PT)
    found = figures.collisions(fig)
    assert "'5,160' is drawn over '642'" in found
    assert "'a note at the edge' is cut off by the figure's edge" in found
    assert not any("295" in f for f in found)
    # Crowded tick labels collide too; ticks outside the view are not drawn and not counted.
    fig, ax = figures.subplots()
    ax.set_xticks(range(12), [f"label {i}" for i in range(12)])
    ax.set_xlim(0, 11)
    assert any("is drawn over" in f for f in figures.collisions(fig))
    fig, ax = figures.subplots(1, 2)
    for a in ax:
        a.plot([0, 1], [0, 1], label="line")
        a.set_title("a title")
        a.set_xlabel("x")
        a.legend()
    assert figures.collisions(fig) == []

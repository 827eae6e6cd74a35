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

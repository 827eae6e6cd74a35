"""Numbers in a page's outputs as a reader writes them (dotlab.outputs)."""

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell

from dotlab.outputs import plain, plain_numbers


@pytest.mark.parametrize("value, shown", [
    (np.int64(10), "10"), (np.int32(-3), "-3"), (np.uint8(255), "255"), (np.True_, "True"), (False, "False"),
    (10.000000000000002, "10.0"), (np.float64(0.4123930494211612), "0.4124"), (np.float32(1.0), "1.0"),
    (np.float64(1.6653345369377348e-16), "1.665e-16"), (-0.5545347050077527, "-0.5545"), (7, "7"),
])
def test_plain_writes_numbers_as_a_reader_does(value, shown):
    assert plain(value) == shown


def test_plain_names_what_is_not_a_number_and_a_bad_digit_count():
    with pytest.raises(TypeError, match="x=\\[1\\] of type list"):
        plain([1])
    with pytest.raises(ValueError, match="digits=0"):
        plain(1.0, digits=0)


def test_a_cell_value_prints_plainly_after_plain_numbers():
    shell = InteractiveShell.instance()
    try:
        shell.run_cell("import numpy as np; from dotlab.outputs import plain_numbers; plain_numbers()")
        formatter = shell.display_formatter.formatters["text/plain"]
        value = (np.int64(10), np.True_, np.float64(6.117647058823529), 10.000000000000002, [np.float32(4.6380816)])
        assert formatter(value) == "(10, True, 6.118, 10.0, [4.638])"
        assert "np." not in formatter({"a": np.int64(3)})
    finally:
        InteractiveShell.clear_instance()
        np.set_printoptions(precision=8, suppress=False)  # NumPy's defaults again


@pytest.mark.parametrize("n, shown", [
    (2_415_919_104_000, "2.42 T"), (4_831_838_208_000, "4.83 T"), (50_257, "50.3 k"), (9_999, "9,999"),
    (123_456_789, "123 M"), (999_999_999, "1.00 G"), (1_000_000_000_000_000, "1.00 P"),
])
def test_engineering_units_keep_three_digits(n, shown):
    from dotlab.outputs import engineering

    # a no-break space between the number and its prefix: one word on a page
    assert engineering(n) == shown.replace(" ", "\u00a0")

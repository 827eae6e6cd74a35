"""Numbers in a page's outputs as a reader writes them.

A code cell that ends with a NumPy scalar shows ``np.int64(10)``, ``np.True_`` or
``np.float64(0.4123930494211612)`` (NumPy 2's repr), and a float sum shows
``10.000000000000002``. Neither is what the sentence next to it means. After
:func:`plain_numbers` (once, in a page's setup cell) a cell's value prints as

- an integer, NumPy's or Python's: ``10``;
- a boolean: ``True``;
- a float, NumPy's or Python's: four significant digits, and a whole number keeps its
  ``.0`` so that a float still reads as one: ``10.0``, ``0.4124``, ``5.551e-17``;
- an array: four decimals, no scientific notation for small entries.

Only what IPython shows as a cell's value changes; ``print``, f-strings and
``repr()`` in code are untouched, so a sentence that needs a different rounding says so
in its own format (``f"{x:.2f}"``).
"""

from __future__ import annotations

import math
import numbers

__all__ = ["DIGITS", "engineering", "plain", "plain_numbers"]

#: Significant digits of a float shown as a cell's value.
DIGITS = 4


def plain(x, digits: int = DIGITS) -> str:
    """A number as a reader writes it: ints whole, floats to ``digits`` significant digits.

    Parameters
    ----------
    x : int, float, bool or a NumPy scalar of those kinds
    digits : int
        Significant digits of a float, at least 1.

    Raises
    ------
    TypeError
        If ``x`` is not a real number.
    ValueError
        If ``digits`` is less than 1.

    Examples
    --------
    >>> import numpy as np
    >>> plain(np.int64(10)), plain(np.True_), plain(10.000000000000002)
    ('10', 'True', '10.0')
    >>> plain(np.float64(0.4123930494211612)), plain(np.float32(4.6380816)), plain(5.551115123125783e-17)
    ('0.4124', '4.638', '5.551e-17')
    >>> plain(float("nan")), plain(-float("inf")), plain(2.5e9)
    ('nan', '-inf', '2.5e+09')
    >>> plain("10")
    Traceback (most recent call last):
    ...
    TypeError: plain(x) needs a real number, got x='10' of type str
    """
    if digits < 1:
        raise ValueError(f"digits={digits}: need at least 1 significant digit")
    if hasattr(x, "dtype") and getattr(x, "shape", None) == ():  # a NumPy scalar
        x = x.item()
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, numbers.Integral):
        return str(int(x))
    if not isinstance(x, numbers.Real):
        raise TypeError(f"plain(x) needs a real number, got x={x!r} of type {type(x).__name__}")
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.{digits}g}"
    if text.lstrip("-").isdigit():  # a whole float: keep it a float
        text += ".0"
    return text


def plain_numbers(digits: int = DIGITS) -> None:
    """Show NumPy and Python numbers as :func:`plain` does, as the value of every cell.

    Registers a plain-text printer with IPython for Python's ``float`` and for each
    NumPy scalar type (NumPy's own ``__repr__`` would otherwise win, being found first
    on the type), and sets NumPy's print options for arrays. Outside IPython only the
    print options are set.
    """
    import numpy as np

    np.set_printoptions(precision=digits, suppress=True)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["text/plain"]

    def printer(x, p, cycle):
        p.text(plain(x, digits))

    kinds = [float, np.bool_] + [t for t in set(np.sctypeDict.values())
                                 if issubclass(t, (np.integer, np.floating))]
    for kind in kinds:
        formatter.for_type(kind, printer)


_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def engineering(n, digits: int = 3) -> str:
    """A count in engineering units, so a table of huge counts fits a page's column.

    Below ten thousand a count is written whole (with a thousands separator); above,
    to ``digits`` significant digits with the prefix of its power of a thousand:
    k (thousand), M (million), G (billion), T (trillion), P (quadrillion). The number
    and its prefix are joined by a no-break space (U+00A0), as SI style asks, so a
    narrow table column on a phone never shows "1.61" on one line and "P" on the next.

    Examples
    --------
    >>> engineering(2_415_919_104_000), engineering(37_748_736), engineering(1536)
    ('2.42\\xa0T', '37.7\\xa0M', '1,536')
    >>> engineering(10_000), engineering(999_999), engineering(-4.5e9)
    ('10.0\\xa0k', '1.00\\xa0M', '-4.50\\xa0G')
    >>> engineering(3.0e18)
    '3,000\\xa0P'
    >>> engineering("many")
    Traceback (most recent call last):
    ...
    TypeError: engineering(n) needs a real number, got n='many' of type str
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Real):
        raise TypeError(f"engineering(n) needs a real number, got n={n!r} of type {type(n).__name__}")
    if abs(n) < 10_000:
        return f"{n:,}" if isinstance(n, numbers.Integral) else plain(n, digits)
    for scale, prefix in _PREFIXES:
        if abs(n) >= scale * (1 - 0.5 * 10 ** -(digits - 1)) or scale == 1e3:
            value = n / scale
            if abs(value) >= 1000:  # past the largest prefix: a whole number of them
                return f"{value:,.0f}\u00a0{prefix}"
            decimals = max(0, digits - len(str(int(abs(round(value, digits))))))
            text = f"{value:.{decimals}f}"
            if len(text.lstrip("-").replace(".", "")) > digits and decimals > 0:  # 999.95 -> 1000.0
                text = f"{value:.{decimals - 1}f}"
            return f"{text}\u00a0{prefix}"
    raise AssertionError("unreachable: the last prefix takes every count of ten thousand or more")

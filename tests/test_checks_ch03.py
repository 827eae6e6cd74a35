"""Chapter 3's checks: right answers pass, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here. The shared tests come
from check_contract; what is particular to chapter 3 follows them.
"""

from catalogue.ch03 import RIGHT, WRONG
from check_contract import contract_tests
from dotlab import cost
from dotlab.checks import ch03

globals().update(contract_tests(ch03, WRONG, RIGHT))


def test_the_counter_agrees_with_the_one_the_cost_chapter_uses():
    """The reference for task 3.3 is written apart from dotlab.cost.matmul_count, and agrees with it."""
    for m, k, n in [(2, 3, 4), (7, 5, 3), (1, 8192, 1)]:
        c = cost.matmul_count(m, k, n)
        assert ch03._count(m, k, n) == (c.dot_products, c.length, c.macs, c.flops)

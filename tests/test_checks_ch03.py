"""Chapter 3's checks: right answers pass, and every catalogued mistake is named.

This is what makes the self-checks and the hidden tests trustworthy: a check that
cannot fail, or fails with the wrong explanation, is caught here. The shared tests come
from check_contract; what is particular to chapter 3 follows them.
"""

import numpy as np

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


def test_a_one_hot_product_turns_minus_zero_into_zero_and_a_lookup_does_not():
    """The premise of embedding_lookup's property check, on this machine's BLAS: every way of
    multiplying a one-hot matrix by E (float64, float32, int and bool one-hots, einsum, torch)
    gives +0.0 where the chosen row holds -0.0; every way of looking the row up keeps -0.0."""
    import torch

    E = np.array([[1.0, 2.0], [-0.0, -0.0], [3.0, 4.0]])
    ids = np.array([1, 0, 1])
    hot = ids[:, None] == np.arange(3)
    products = [hot.astype(float) @ E, hot.astype(np.float32) @ E.astype(np.float32), hot.astype(int) @ E,
                hot @ E, np.einsum("tv,vd->td", hot.astype(float), E),
                (torch.as_tensor(hot).double() @ torch.as_tensor(E)).numpy()]
    for product in products:
        assert not np.any(np.signbit(product[[0, 2]]))
    for lookup in (E[ids], np.take(E, ids, axis=0), np.array([list(E)[i] for i in ids])):
        assert np.all(np.signbit(lookup[[0, 2]]))

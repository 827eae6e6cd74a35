"""dotlab: the dot products inside a language model, one readable function at a time.

The names imported here are the course's public contract (see the syllabus); chapters,
exercises and graders rely on them.
"""

from dotlab import cost
from dotlab.attention import causal_mask, scaled_dot_product_attention
from dotlab.search import cosine_similarity, normalise, top_k
from dotlab.softmax import softmax
from dotlab.vectors import angle_between, dot, dot_loop, norm, project

__all__ = [
    "angle_between",
    "causal_mask",
    "cosine_similarity",
    "cost",
    "dot",
    "dot_loop",
    "norm",
    "normalise",
    "project",
    "scaled_dot_product_attention",
    "softmax",
    "top_k",
]

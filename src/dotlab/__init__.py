"""dotlab: the dot products inside a language model, one readable function at a time.

The names imported here are the course's public contract (see the syllabus); chapters,
exercises and graders rely on them.
"""

from dotlab import cost
from dotlab.vectors import angle_between, dot, dot_loop, norm, project

__all__ = ["angle_between", "cost", "dot", "dot_loop", "norm", "project"]

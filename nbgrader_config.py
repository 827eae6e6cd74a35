"""nbgrader settings for this course. The repository itself is the course directory.

Instructors: the commands that use this file are in the instructor's guide
(chapters/instructor_guide.md). Class work (submitted/, autograded/, feedback/,
gradebook.db) stays out of git (see .gitignore).
"""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearOutput,
                                    DeduplicateIds, GetGrades, IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec, SaveAutoGrades)

from dotlab.checks.contract import configure as configure_checks
from dotlab.grading.feedback import HideTracebacks, OfflineHTMLExporter, SafeOutputs
from dotlab.grading.preprocessors import (CappedNotebookExporter, ConfinedExecute, RestoreCellMetadata,
                                          SandboxGrades)
from dotlab.grading.release import AsJupyterLabSaves

c = get_config()  # noqa: F821 - injected by nbgrader when it reads this file

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "dot-product-course"
# The instructor versions (solutions and hidden tests) are the source; the learner
# versions that `nbgrader generate_assignment` writes are committed in exercises/.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# The release is saved as JupyterLab would save it (nothing "modified" on opening), and
# its self-checks let Run All go on past a failing task (src/dotlab/grading/release.py).
c.GenerateAssignment.preprocessors = [*GenerateAssignment.class_traits()["preprocessors"].default(), AsJupyterLabSaves]

# A learner who deletes a test cell must not silently score 0 on it, nor escape it:
# autograde puts the instructor's cell back.
c.OverwriteCells.add_missing_cells = True

# A cell that runs longer than this is interrupted and scored as failed, and grading
# goes on with the next cell and the next learner.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True

# A submission too large to read safely (c.CappedNotebookExporter.max_bytes, 16 MiB) is not
# graded, with a message saying why; grading goes on with the next learner.
c.Autograde.exporter_class = CappedNotebookExporter
# nbgrader's autograde pipeline, with three of the course's steps (src/dotlab/grading/).
# RestoreCellMetadata puts back the instructor's cell flags and points before nbgrader
# checks them, so tampered metadata cannot make a submission ungradable or worth more.
c.Autograde.sanitize_preprocessors = [
    ClearOutput, RestoreCellMetadata, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
]
# ConfinedExecute runs the notebook in a kernel that cannot read instructor files, use
# the network or take the machine's memory; SandboxGrades then decides every test cell
# by running the instructor's checks in the grader against the learner's functions in a
# fresh confined process, and writes the verdict that SaveAutoGrades scores.
c.Autograde.autograde_preprocessors = [
    ConfinedExecute, SandboxGrades, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
# Each learner cell and each call of a learner's function gets Execute.timeout in the
# sandbox too (c.SandboxGrades.timeout to set it apart). Memory for learner code, in the
# kernel and in the sandbox:
c.GradingLimits.memory_limit = 4 * 2**30
# On top of those timeouts, each notebook's code may run this many seconds in all (kernel
# cells, sandbox replays and calls together); when they are used up, the cells not yet
# decided score zero with a message saying why, and grading goes on with the next learner.
# A correct notebook runs for a few seconds: this only stops code that sleeps or loops.
c.GradingLimits.notebook_budget = 300

# The hidden checks' edge cases are drawn from this seed (dotlab.checks.contract), never
# from the package learners install: change it for each class, and keep it to regrade.
c.Checks.seed = int(os.environ.get("DOTLAB_CHECKS_SEED", "2718281828"))
configure_checks(seed=c.Checks.seed)  # this process runs the checks: nbgrader autograde, grade_class

# Feedback shows what went wrong in the words of the checks, never the hidden tests'
# source: hidden regions are removed and tracebacks cut to their last line. The page shows
# the learner's outputs, so nothing in it may run in the browser of whoever opens it:
# SafeOutputs keeps only text, HTML and real PNG/JPEG images, with no output metadata, and
# every bit of HTML (outputs and markdown cells, here and in the formgrader) goes through
# the course's allowlist sanitiser: no script, event handler, iframe, object or style,
# no external resource, no javascript: link.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, HideTracebacks, SafeOutputs, CSSHTMLHeaderPreprocessor]
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {"clean_html": "dotlab.grading.feedback.clean_html"}
# The page loads nothing from anywhere: its maths is already MathML (clean_html draws it), and
# this exporter leaves out nbgrader's MathJax, which came from a CDN.
c.GenerateFeedback.exporter_class = OfflineHTMLExporter

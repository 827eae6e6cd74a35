"""Every number in a chapter's prose comes from code: glued, or an input the reader sets.

The front page promises that every number on a page is computed by the code the book
runs. Code cells, math, inline code and glued values (``{glue:text}``) are that code's
business; what is left is prose typed by hand. This test strips a page down to that
prose and lists every run of digits in it. Some digits are not results and are allowed
by rule: references to chapters, sections, figures, tables, tasks and questions, years,
and the numbers of a quoted claim (a blockquote). Everything else must be on the page's
short allowlist below, each with the reason it may be typed: an input the page chooses
(a length, a shape, a sample size), a definition, a published figure that is cited. A
number found on no list fails the test: glue it from the cell that computes it, or, if
it really is an input, add it to the allowlist with its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"

# Inputs: sizes, lengths and settings the page chooses and then feeds to its code.
SHAPE = "a model shape or a size the page's code takes as input"
GPT2 = "GPT-2 small's published shape (Radford et al. 2019), an input to the code"
EXAMPLE = "the worked example's input, set in the code cell that uses it"
DEF = "part of a definition or a convention, not a result"
QUOTE = "the figure a quoted claim gives, which the page then recomputes"

ALLOWED: dict[str, dict[str, str]] = {
    "ch01_dot_product.md": {
        "3": "a practice question's given lengths", "4": "a practice question's given lengths",
        "6": "a practice question's given dot product", "90": "degrees in a right angle: " + DEF,
        "4,096": "a practice question's given length",
    },
    "ch02_cosine_search.md": {
        "4": "practice questions' given lengths and item ids", "5": "the recommendations' k, an input",
        "7": "a practice question's item ids", "8": "practice questions' given lengths and item ids",
        "9": "a practice question's item ids",
        "10": "top-10, the search's k, and chapter 1's worked example [2,3,1]·[4,-1,5]",
        "16": "16-bit floats, the cache's storage type", "50": "a practice question's batch",
        "100": "the benchmark's number of queries, an input", "127": "int8's largest code: " + DEF,
        "128": "int8's range -128..127: " + DEF, "256": "int8 wraps modulo 2^8: " + DEF,
        "384": "MiniLM's embedding width, the published model's shape", "768": "a practice question's width",
        "10,000": "the speed comparison's corpus size, an input", "100,000": "the benchmark script's size, an input",
        "2,000,000": "a practice question's corpus size",
    },
    "ch03_neurons_layers.md": {
        "6": "the 6N training rule of Kaplan et al. 2020, cited", "7": "a practice question's row",
        "32": "a practice question's batch", "512": "a practice question's width",
        "768": "GPT-2 small's width, an input", "50,000": "a practice question's vocabulary",
    },
    "ch04_scaling.md": {
        "4": "a practice question's given scores", "12": "the explorer's number of keys, an input",
        "16": "the saturation experiment's number of keys, an input", "64": "d_k = 64, the input of the line",
        "90": "the explorer's threshold of 90%, an input", "256": "the table's queries, keys and d_k, inputs",
        "1,000": "the saturation experiment's queries, an input", "1,024": "the largest d_k tried, an input",
        "4,000": "the explorer's sample size, an input",
    },
    "ch05_attention.md": {
        "4": "the four-token example's T", "5.2": "task 5.2, named in the assignment table",
        "64": "a practice question's d_head", "1,000": "a practice question's prompt length",
        "2,048": "the memory measurement's T, an input", "4,096": "the benchmark's T, an input",
        "8,192": "a practice question's T", "16,384": "the benchmark's T, an input",
    },
    "ch06_vocabulary.md": {
        "0.9": "top-p's p, an input", "7": "the generator's seed, an input", "10": "top-k's k, an input",
        "12": GPT2, "16": "16-bit floats, the cache's storage type", "30": "the tokens generated, an input",
        "48": "the small model's width, an input", "768": GPT2, "50,257": GPT2,
        "1,000": "a practice question's context", "1,024": "GPT-2 small's context, its published shape",
    },
    "ch07_cost.md": {
        "3": "the third rung, a reference", "7": "a quoted model size in a practice question",
        "8": "the shared key-value heads, an input", "12": GPT2, "16": "16-bit numbers, the storage type",
        "24": "a practice question's shape", "48": EXAMPLE, "64": "the hypothetical model's heads, an input",
        "80": "the hypothetical model's layers, an input", "96": "GPT-3's layers, its cited shape",
        "100": "a quoted processor speed in a practice question", "128": "d_head, an input",
        "175": "GPT-3's parameters as usually quoted, which the page recomputes",
        "1,000": EXAMPLE, "1,024": "GPT-2 small's context, its published shape",
        "2,000": "a practice question's context", "2,048": "GPT-3's and a question's context, inputs",
        "4,096": "d_model of the worked example, and a window, inputs", "8,192": "the hypothetical model's width",
        "12,288": "GPT-3's width, its cited shape", "100,000": "the long context, an input",
        "51": QUOTE,
    },
    "ch08_forward_pass.md": {
        "3": "the chapter column of the stage table", "4": "the chapter column of the stage table",
        "5": "the chapter column of the stage table", "6": "the chapter column of the stage table",
        "12": GPT2, "3072": GPT2, "3,072": GPT2, "1,024": "GPT-2 small's context, its published shape",
        "16,384": "a long context, an input",
    },
    "ch09_position_memory.md": {
        "64": "the RoPE demo's width, and Llama 2 70B's query heads (Touvron et al. 2023), inputs",
        "100": "a shift of the RoPE table's pairs, an input", "10,000": "a shift of the RoPE table's pairs, an input",
        "500": "the range of shifts tried, -500 to 500, an input",
        "4": "the offset of the RoPE table's input pair (7, 3)",
        "8": "Llama 2 70B's key/value heads (Touvron et al. 2023), an input",
        "16": "16-bit numbers, the cache's storage type", "32": "Mistral 7B's layers (Jiang et al. 2023), an input",
        "4,096": "the context and Mistral 7B's window (Jiang et al. 2023), inputs",
        "100,000": "the long context, an input", "200": "the synthetic corpus's centres, an input",
        "0.95": "the recall the search sweep asks for, an input",
    },
    "claims.md": {
        "51": QUOTE, "64": "the quoted 64 MB, and GPT-2's head width (an input)", "4,096": QUOTE,
        "768": GPT2, "2.3": QUOTE, "0.01": QUOTE, "12": QUOTE,
        "128": QUOTE, "32": EXAMPLE, "48": EXAMPLE, "1,000": EXAMPLE,
        "1,024": "GPT-2 small's context, an input", "8,192": "GPT-4's published context (OpenAI 2023), cited",
        "32,768": "GPT-4's published context (OpenAI 2023), cited",
    },
}


def prose(text: str) -> str:
    """The text a reader reads as prose: no front matter, code, math, roles or labels."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)  # jupytext front matter
    text = re.sub(r"^(`{3,})\{code-cell\}.*?^\1\s*$", "", text, flags=re.S | re.M)
    text = re.sub(r"^(`{3,})(?!\{)[^\n]*\n.*?^\1\s*$", "", text, flags=re.S | re.M)  # plain code blocks
    text = re.sub(r"^(`{3,}|:{3,})\{[\w-]+\}[^\n]*$", "", text, flags=re.M)  # directive openings
    text = re.sub(r"^:[\w-]+:.*$", "", text, flags=re.M)  # directive options
    text = re.sub(r"^`{3,}\s*$|^:{3,}\s*$", "", text, flags=re.M)  # directive closings
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)  # display math
    text = re.sub(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", " ", text, flags=re.S)
    text = re.sub(r"(?<![\\$])\$(?!\$)[^$]+?(?<!\\)\$", " ", text)  # inline math, even across a line break
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", text)  # roles: glue, cite, doc, term, ref, numref
    text = re.sub(r"`[^`\n]+`", " ", text)  # inline code
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = re.sub(r"^\(\S+\)=\s*$", "", text, flags=re.M)  # labels
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"^>.*$", "", text, flags=re.M)  # blockquotes: claims quoted to be checked
    return text


REFERENCE = re.compile(
    r"\b(?:chapters?|sections?|figures?|fig\.|tables?|tasks?|questions?|parts?|exercises?|"
    r"assignments?|steps?|rungs?|equations?|issues?)\s+"
    r"\d+(?:\.\d+)*(?:(?:,\s*|\s+(?:and|or|to)\s+|[-–])\d+(?:\.\d+)*)*",
    re.IGNORECASE,
)
QUESTION_NUMBER = re.compile(r"\*\*\d+\.\*\*")  # a practice question's number
TASK_ROW = re.compile(r"^\|\s*\d+\.\d+\s*\|", re.MULTILINE)  # an assignment table's task id
NAME = re.compile(r"\b[A-Za-z]+-\d+(?:\.\d+)?\b|@\d+")  # names with a number: GPT-2, GPT-3.5, recall@10
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# 0, 1 and 2 are nearly always part of a definition (weights sum to 1, mean 0 and
# variance 1, 1 MAC = 2 FLOPs, 2 bytes a number), never a result worth gluing.
DEFINITIONAL = {"0", "1", "2"}
NUMBER = re.compile(r"(?<![\w.])\d(?:[\d,]*\d)?(?:\.\d+)?(?![\w])")


def typed_numbers(text: str) -> list[str]:
    """Runs of digits left in the prose once references, years and question numbers go."""
    text = prose(text)
    for pattern in (REFERENCE, QUESTION_NUMBER, TASK_ROW, NAME, YEAR):
        text = pattern.sub(" ", text)
    return [n for n in NUMBER.findall(text) if n not in DEFINITIONAL]


# Every numbered chapter (chNN_*.md) and the claims page.
PAGES = sorted(p.name for p in CHAPTERS.glob("ch[0-9][0-9]_*.md")) + ["claims.md"]


def test_every_chapter_of_the_book_is_scanned():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    chapters = set(re.findall(r"file:\s*chapters/(ch\d\d_\w+)", toc))
    assert chapters and {f"{c}.md" for c in chapters} <= set(PAGES), sorted(chapters)


@pytest.mark.parametrize("page", PAGES)
def test_every_number_in_the_prose_is_computed_or_an_allowed_input(page):
    found = typed_numbers((CHAPTERS / page).read_text(encoding="utf-8"))
    allowed = ALLOWED.get(page, {})
    typed = sorted({n for n in found if n not in allowed})
    assert not typed, (
        f"{page}: numbers typed into the prose by hand: {typed}. Glue each from the cell "
        f"that computes it ({{glue:text}}), or, if it is an input the page chooses, add it "
        f"to ALLOWED[{page!r}] with the reason."
    )


def test_the_scan_sees_prose_numbers_and_ignores_code_math_glue_and_references():
    page = """---
jupytext: x
---
# Title

The table takes 64 MiB, see chapter 5 and task 4.2, in 2017 {cite:p}`x`.

```{code-cell} ipython3
x = 12345
```

$$ d_k = 777 $$ and $T = 888$ and {glue:text}`v:.2f` and `n = 999`.

> *A claim of 51 quadrillion.*

**3.** A question.
"""
    assert typed_numbers(page) == ["64"]


def test_the_allowlist_names_a_reason_for_every_literal():
    for page, entries in ALLOWED.items():
        assert (CHAPTERS / page).exists(), f"ALLOWED names {page}, which is not a page"
        for literal, reason in entries.items():
            assert NUMBER.fullmatch(literal), f"{page}: {literal!r} is not a number"
            assert len(reason) > 10, f"{page}: {literal!r} needs a reason"


@pytest.mark.parametrize("page, sentence, number", [
    ("ch02_cosine_search.md", "A float32 embedding of 384 components takes 1,536 bytes.", "1,536"),
    ("ch02_cosine_search.md", "It holds more than 130,000 products of 127 × 127.", "130,000"),
    ("ch02_cosine_search.md", "A single product is already 16,129, so the sum wraps.", "16,129"),
    ("ch08_forward_pass.md", "A prefill of the prompt followed by 19 decode steps:", "19"),
    ("ch07_cost.md", "speed of copying 65 MiB, more than the caches hold.", "65"),
    ("ch09_position_memory.md", "The cache falls from 10.0 GiB to 1.25 GiB.", "1.25"),
    ("ch09_position_memory.md", "For Mistral 7B the reach is 131,072 positions.", "131,072"),
])
def test_numbers_once_typed_by_hand_would_be_caught(page, sentence, number):
    """The numbers the course once typed into its prose (now glued) fail the scan."""
    found = typed_numbers(sentence)
    assert number in found and number not in ALLOWED[page]

"""The synthetic corpus the course's tiny GPT learns from, and its word-level tokenizer.

Every sentence comes from a small seeded grammar about people, animals, vehicles and
food. Most units end with a pronoun whose antecedent the grammar makes unambiguous:

    the girl gave the dogs an apple because they barked .

Each noun in a unit has a different pronoun class (``he``, ``she``, ``it``, ``they``),
so the pronoun picks out exactly one earlier noun: the most recent noun of its class.
The word after the pronoun is that noun's own verb (dogs bark, cars honk, eggs crack),
so predicting it *requires* finding the antecedent. That is the job we hope an
attention head learns, and the reason the heatmaps in chapter 5 show something.

The generator is pure Python and deterministic for a seed; the training and held-out
splits use different seeds.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

TRAIN_SEED = 2024
HELDOUT_SEED = 7

PERSON, ANIMAL, VEHICLE, FOOD = "person", "animal", "vehicle", "food"


@dataclass(frozen=True)
class Noun:
    """A noun of the grammar: its two forms, its kind, its gender and its own verb."""

    singular: str
    plural: str
    kind: str  # person, animal, vehicle or food: decides which verbs it may take
    gender: str | None  # "m" or "f" for people; English says "it" for the rest
    verb: str  # what it does when a pronoun brings it back ("the dog ... it barked")


def _nouns(kind: str, rows: str) -> tuple[Noun, ...]:
    """Parse ``"singular plural gender verb"`` rows (gender ``-`` for none)."""
    out = []
    for row in rows.strip().splitlines():
        sing, plur, gender, verb = row.split()
        out.append(Noun(sing, plur, kind, None if gender == "-" else gender, verb))
    return tuple(out)


NOUNS: tuple[Noun, ...] = (
    _nouns(PERSON, """
        boy boys m jumped
        man men m coughed
        king kings m ruled
        uncle uncles m snored
        girl girls f laughed
        woman women f sang
        queen queens f waved
        aunt aunts f knitted
    """)
    + _nouns(ANIMAL, """
        dog dogs - barked
        cat cats - meowed
        cow cows - mooed
        duck ducks - quacked
        horse horses - neighed
        lion lions - roared
        owl owls - hooted
        frog frogs - croaked
        mouse mice - squeaked
        pig pigs - grunted
    """)
    + _nouns(VEHICLE, """
        car cars - honked
        truck trucks - rumbled
        train trains - whistled
        bus buses - stopped
        bike bikes - wobbled
        boat boats - sailed
        plane planes - landed
    """)
    + _nouns(FOOD, """
        apple apples - rolled
        egg eggs - cracked
        cake cakes - crumbled
        pie pies - cooled
        banana bananas - ripened
        cookie cookies - broke
    """)
)

ANY = (PERSON, ANIMAL, VEHICLE, FOOD)
MOVERS = (PERSON, ANIMAL, VEHICLE)
# verb -> (kinds allowed as subject, kinds allowed as object): keeps "the pie chased
# the king" out of the corpus, so the sentences read as sentences.
TRANSITIVE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "saw": ((PERSON, ANIMAL), ANY),
    "found": ((PERSON, ANIMAL), ANY),
    "liked": ((PERSON, ANIMAL), ANY),
    "heard": ((PERSON, ANIMAL), MOVERS),
    "chased": ((PERSON, ANIMAL), MOVERS),
    "followed": (MOVERS, MOVERS),
    "passed": (MOVERS, MOVERS),
    "helped": ((PERSON, ANIMAL), (PERSON, ANIMAL)),
    "fed": ((PERSON,), (PERSON, ANIMAL)),
    "met": ((PERSON,), (PERSON,)),
    "ate": ((PERSON, ANIMAL), (FOOD,)),
    "dropped": ((PERSON,), (FOOD,)),
    "bought": ((PERSON,), (ANIMAL, VEHICLE, FOOD)),
    "washed": ((PERSON,), (ANIMAL, VEHICLE)),
    "drove": ((PERSON,), (VEHICLE,)),
}
ADJECTIVES = ("big", "small", "old")
# Ways to join the "who did what" clause to the pronoun clause.
CONNECTORS = ((".",), (".", "then"), (".", "later"), ("and",), ("and", "then"), ("because",), ("so",))
PRONOUNS = ("he", "she", "it", "they")
FUNCTION_WORDS = ("the", "a", "an", "gave", ".") + tuple(w for c in CONNECTORS for w in c)

P_PLURAL = 0.3
P_ADJECTIVE = 0.2
TEMPLATE_WEIGHTS = {"pronoun": 5, "give": 2, "distant": 2, "simple": 1, "transitive": 1}


def pronoun_of(noun: Noun, plural: bool) -> str:
    """The pronoun English uses to refer back to ``noun``.

    Examples
    --------
    >>> girl = next(n for n in NOUNS if n.singular == "girl")
    >>> pronoun_of(girl, plural=False), pronoun_of(girl, plural=True)
    ('she', 'they')
    """
    if plural:
        return "they"
    return {"m": "he", "f": "she"}.get(noun.gender, "it")


@dataclass(frozen=True)
class Unit:
    """One generated unit of text (one or more sentences), with its answer key.

    ``pronoun`` and ``antecedent`` are word positions within ``words`` (``None`` for a
    unit without a pronoun); ``nouns`` lists the positions of every noun, which the
    tests use to build a recency baseline.
    """

    words: tuple[str, ...]
    pronoun: int | None = None
    antecedent: int | None = None
    nouns: tuple[int, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(self.words)


class _Builder:
    """Accumulates words and remembers where nouns went."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.words: list[str] = []
        self.nouns: list[int] = []

    def add(self, *words: str) -> None:
        self.words.extend(words)

    def noun_phrase(self, noun: Noun, plural: bool, article: str = "the") -> int:
        """Append ``the [adjective] noun`` and return the noun's position."""
        adjective = self.rng.choice(ADJECTIVES) if self.rng.random() < P_ADJECTIVE else None
        head = noun.plural if plural else noun.singular
        if article == "a":  # "a" or "an" agrees with the word that follows it
            article = "an" if (adjective or head)[0] in "aeiou" else "a"
        self.add(article, *([adjective] if adjective else []), head)
        self.nouns.append(len(self.words) - 1)
        return len(self.words) - 1


def _pick(rng: random.Random, kinds: tuple[str, ...], taken: set[str]) -> tuple[Noun, bool]:
    """A random noun of one of ``kinds`` whose pronoun class is not already taken."""
    while True:  # rejection sampling: every kind offers several free classes
        noun = rng.choice([n for n in NOUNS if n.kind in kinds])
        plural = rng.random() < P_PLURAL
        if pronoun_of(noun, plural) not in taken:
            taken.add(pronoun_of(noun, plural))
            return noun, plural


def _clause(b: _Builder, taken: set[str]) -> list[tuple[int, Noun, bool]]:
    """``the A <verb> the B``: returns (position, noun, plural) for A and B."""
    verb = b.rng.choice(sorted(TRANSITIVE))
    subject_kinds, object_kinds = TRANSITIVE[verb]
    a, a_pl = _pick(b.rng, subject_kinds, taken)
    a_pos = b.noun_phrase(a, a_pl)
    b.add(verb)
    o, o_pl = _pick(b.rng, object_kinds, taken)
    return [(a_pos, a, a_pl), (b.noun_phrase(o, o_pl), o, o_pl)]


def _resolve(b: _Builder, candidates: list[tuple[int, Noun, bool]]) -> Unit:
    """Append ``<pronoun> <antecedent's verb> .`` for a random candidate."""
    pos, noun, plural = b.rng.choice(candidates)
    b.add(pronoun_of(noun, plural))
    pronoun = len(b.words) - 1
    b.add(noun.verb, ".")
    return Unit(tuple(b.words), pronoun, pos, tuple(b.nouns))


def _pronoun_unit(b: _Builder) -> Unit:
    """the girl saw the dogs because they barked ."""
    candidates = _clause(b, set())
    b.add(*b.rng.choice(CONNECTORS))
    return _resolve(b, candidates)


def _give_unit(b: _Builder) -> Unit:
    """the king gave the girls an egg and it cracked ."""
    taken = {"it"}  # the gift is a singular food, so "it" belongs to it
    giver, g_pl = _pick(b.rng, (PERSON,), taken)
    candidates = [(b.noun_phrase(giver, g_pl), giver, g_pl)]
    b.add("gave")
    receiver, r_pl = _pick(b.rng, (PERSON, ANIMAL), taken)
    candidates.append((b.noun_phrase(receiver, r_pl), receiver, r_pl))
    gift = b.rng.choice([n for n in NOUNS if n.kind == FOOD])
    candidates.append((b.noun_phrase(gift, False, article="a"), gift, False))
    b.add(*b.rng.choice(CONNECTORS))
    return _resolve(b, candidates)


def _distant_unit(b: _Builder) -> Unit:
    """the cat chased the boy . the cars honked . he jumped .  (skips a sentence)"""
    taken: set[str] = set()
    candidates = _clause(b, taken)
    b.add(".")
    between, plural = _pick(b.rng, MOVERS, taken)
    b.noun_phrase(between, plural)
    b.add(between.verb, ".")
    return _resolve(b, candidates)


def _simple_unit(b: _Builder) -> Unit:
    """the dog barked .  (teaches each noun's verb directly)"""
    noun, plural = _pick(b.rng, ANY, set())
    b.noun_phrase(noun, plural)
    b.add(noun.verb, ".")
    return Unit(tuple(b.words), nouns=tuple(b.nouns))


def _transitive_unit(b: _Builder) -> Unit:
    """the woman drove the truck ."""
    _clause(b, set())
    b.add(".")
    return Unit(tuple(b.words), nouns=tuple(b.nouns))


_TEMPLATES = {
    "pronoun": _pronoun_unit,
    "give": _give_unit,
    "distant": _distant_unit,
    "simple": _simple_unit,
    "transitive": _transitive_unit,
}


def generate(n_units: int, seed: int) -> list[Unit]:
    """Generate ``n_units`` units of text, the same ones every time for a given seed.

    Parameters
    ----------
    n_units : int
        How many units to generate (each is one to three short sentences).
    seed : int
        Seed of the generator; the training split uses ``TRAIN_SEED`` and the held-out
        split ``HELDOUT_SEED``.

    Returns
    -------
    list of Unit
        Each with its words and, when it ends in a pronoun, the positions of the
        pronoun and of its antecedent.

    Raises
    ------
    TypeError
        If ``n_units`` or ``seed`` is not an integer.
    ValueError
        If ``n_units`` is negative.

    Examples
    --------
    >>> [u.text for u in generate(2, seed=0)] == [u.text for u in generate(2, seed=0)]
    True
    >>> unit = next(u for u in generate(50, seed=0) if u.pronoun is not None)
    >>> unit.words[unit.pronoun] in PRONOUNS
    True
    """
    for name, value in (("n_units", n_units), ("seed", seed)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name}={value!r} must be an int, not {type(value).__name__}")
    if n_units < 0:
        raise ValueError(f"n_units={n_units} must be >= 0")
    rng = random.Random(seed)
    names, weights = zip(*TEMPLATE_WEIGHTS.items())
    return [_TEMPLATES[rng.choices(names, weights)[0]](_Builder(rng)) for _ in range(n_units)]


def vocabulary() -> list[str]:
    """Every word the grammar can produce, sorted, so word ids never depend on a sample.

    Examples
    --------
    >>> words = vocabulary()
    >>> "dog" in words and "barked" in words and "." in words
    True
    >>> words == sorted(set(words))
    True
    """
    words = set(FUNCTION_WORDS) | set(PRONOUNS) | set(TRANSITIVE) | set(ADJECTIVES)
    for noun in NOUNS:
        words |= {noun.singular, noun.plural, noun.verb}
    return sorted(words)


class Tokenizer:
    """Word-level tokenizer: one id per word of a fixed vocabulary.

    Text is lower-cased and split on white space, with ``.`` as a word of its own, so
    ``"The dog barked."`` reads as ``the dog barked .``.

    Examples
    --------
    >>> tok = Tokenizer(vocabulary())
    >>> ids = tok.encode("The dog barked.")
    >>> tok.decode(ids)
    'the dog barked .'
    """

    def __init__(self, words):
        words = list(words)
        if len(set(words)) != len(words):
            raise ValueError("the vocabulary lists a word twice; ids must be unique")
        self.words = words
        self.ids = {w: i for i, w in enumerate(words)}

    def __len__(self) -> int:
        return len(self.words)

    def split(self, text: str) -> list[str]:
        """Split text into words, keeping ``.`` as a word."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        return re.sub(r"\.", " . ", text.lower()).split()

    def encode(self, text: str) -> list[int]:
        """Word ids of ``text``; an unknown word raises ``ValueError`` naming it."""
        words = self.split(text)
        unknown = [w for w in words if w not in self.ids]
        if unknown:
            raise ValueError(
                f"unknown word {unknown[0]!r} in {text!r}: the tiny model knows only the "
                f"{len(self.words)} words of its grammar (see corpus.vocabulary())"
            )
        return [self.ids[w] for w in words]

    def decode(self, ids) -> str:
        """The words for ``ids``, joined by spaces."""
        ids = [int(i) for i in ids]
        bad = [i for i in ids if not 0 <= i < len(self.words)]
        if bad:
            raise ValueError(f"token id {bad[0]} is outside the vocabulary 0..{len(self.words) - 1}")
        return " ".join(self.words[i] for i in ids)

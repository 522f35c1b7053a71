"""Misspelt words read as the planner's own words or the dataset's column names (rapidfuzz OSA distance).

A word is corrected only when it is not a known word itself (nor PROTECTED), and only to the one candidate
that is closest: short words (3–4 letters) only for two swapped neighbouring letters ("teh", "bset"), longer
ones for one edit inside the word ("targt", "optimze", "hisotry"; two from nine letters) that keeps its first
and last letters, never for another form of the same word ("leaks" stays). A capitalised word inside a
sentence is a name, so it is read only as a column name ("Staus" → Status).
"""

import re
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

# Common words within reach of a planner word that mean something else ("status" is not "stats", "turned" is
# not "tuned"): never corrected. Found by spelling every word of the installed packages' documentation.
PROTECTED = frozenset("""
test tests rest tree trees fit set sets own point points while width least status states starts stays modes
leading scope trailing computing remote providing stores storing links likes lives sleep steep turned turning
smoothing correction resolving influence compiling leaking shade smart lease explode latent understood
resort thinks begun began paint boots summaries regressions predictors estimates exceeding whose store short
share words retain world stars modal interactions
""".split())

_WORD = re.compile(r"(?<![\w.'/\\-])[A-Za-z]+(?![\w'/\\-]|\.\w)")
_SENTENCE_START = re.compile(r"(?:^|[.!?;:\n])\s*$")
_ENDINGS = frozenset({"s", "es", "d", "ed", "ing", "er", "ly", "y", "n"})  # "leak" + "s" is another form


def _max_edits(word: str) -> int:
    """How many edits a misspelling of this length may have: 1 (a swap only below 5 letters), 2 from 9."""
    return 2 if len(word) >= 9 else 1


def _swapped(said: str, word: str) -> bool:
    """Whether `said` is `word` with two neighbouring letters swapped ("teh" for "the")."""
    return len(said) == len(word) and sorted(said) == sorted(word) and OSA.distance(said, word) == 1


def _may_mean(said: str, word: str) -> bool:
    """Whether a misspelling `said` may stand for `word`: by a swap of neighbouring letters, or (from five
    letters) by edits inside the word, which keeps its first and last letters as typing mostly does; never
    another form of the same word ("leaks" is not "leak")."""
    if _swapped(said, word):
        return True
    short, long = sorted((said, word), key=len)
    inflected = long.startswith(short) and long[len(short):] in _ENDINGS
    return len(said) > 4 and said[0] == word[0] and said[-1] == word[-1] and not inflected


class Speller:
    """Reads misspelt words of a message as vocabulary words or column names, and says so in a note."""

    def __init__(self, words: Iterable[str], known: Iterable[str] = ()):
        self.words = frozenset(w.lower() for w in words if len(w) >= 3 and w.isalpha())
        self.known = self.words | PROTECTED | frozenset(w.lower() for w in known)

    def correct(self, text: str, columns: Iterable[str] = ()) -> tuple[str, list[str]]:
        """`text` with its misspelt words replaced, and a note for each ("Read "teh" as "the".")."""
        names = _column_words(columns)
        notes: list[str] = []

        def replace(found: re.Match) -> str:
            said = found.group()
            starts_sentence = _SENTENCE_START.search(text[:found.start()])
            is_name = said[:1].isupper() and not said.isupper() and not starts_sentence
            meant = self._meant(said.lower(), names, is_name)
            if meant is None:
                return said
            note = f"Read \"{said}\" as \"{meant}\"."
            if note not in notes:
                notes.append(note)
            return meant

        return _WORD.sub(replace, text), notes

    def _meant(self, said: str, names: dict[str, str], is_name: bool) -> str | None:
        """The one word closest to `said` within its edit allowance, or None (known, too far or a tie)."""
        if len(said) < 3 or said in self.known or said in names:
            return None
        choices = names if is_name else {w: w for w in self.words} | names
        found = process.extract(said, list(choices), scorer=OSA.distance, score_cutoff=_max_edits(said),
                                limit=None)
        ranked = sorted((distance, not _swapped(said, word), word) for word, distance, _ in found
                        if _may_mean(said, word))
        if not ranked or (len(ranked) > 1 and ranked[0][:2] == ranked[1][:2]):
            return None
        return choices[ranked[0][2]]


def _column_words(columns: Iterable[str]) -> dict[str, str]:
    """Lower-case spelling → how to write it: one-word column names as the dataset spells them, and the
    words of longer names ("Garage Area": garage, area)."""
    words: dict[str, str] = {}
    for column in columns:
        parts = re.findall(r"[a-z]+", column.lower())
        if len(parts) == 1 and parts[0] == column.lower():
            words[parts[0]] = column
        else:
            words.update({p: p for p in parts if len(p) >= 3})
    return words

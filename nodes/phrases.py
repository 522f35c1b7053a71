"""Text helpers of the rule planner: paths, clauses, numbers in words, model, metric and column mentions."""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from tools import formats
from tools.keys import METRICS, MODELS
from tools.names import normalize

_QUOTED_PATH = re.compile(rf"""(["'`])([^"'`\n]+?{formats.PATTERN})\1""", re.IGNORECASE)
_BARE_PATH = re.compile(rf"(?<![\w/.~\\-])((?:[\w~.:+\\/-]*[/\\])?[\w.+-]+{formats.PATTERN})(?![\w/])",
                        re.IGNORECASE)
_QUOTED = re.compile(r"""(?<!\w)(["'`])([^"'`\n]+?)\1(?!\w)""")
PATH_MARK, QUOTE_MARK = "\ue000", "\ue001"
_PLACEHOLDER = re.compile(f"([{PATH_MARK}{QUOTE_MARK}])(\\d+)\\1")

_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD_VALUE = {w: i for i, w in enumerate(_UNITS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
_DIGIT_WORDS = "|".join(_UNITS[1:10])
_SMALL_WORDS = "|".join(sorted(_UNITS, key=len, reverse=True))  # "seventeen" before "seven"
NUMBER_WORDS = (rf"(?:(?:a|an|{_DIGIT_WORDS})\s+(?:hundred|thousand)|(?:a\s+)?dozen"
                rf"|(?:{'|'.join(_TENS)})(?:[\s-](?:{_DIGIT_WORDS}))?|(?:{_SMALL_WORDS}))")
NUMBER = rf"(?:\d+(?:,\d{{3}})*|{NUMBER_WORDS})"

_TRIALS = (re.compile(rf"\b({NUMBER})\s*(?:more\s+)?(?:optuna\s+)?(?:trials?|iterations?|iters?"
                      rf"|evaluations?|evals?|attempts?|tries|rounds?|candidates|configurations|configs)\b",
                      re.IGNORECASE),
           re.compile(rf"\b(?:n_?trials|trials)\s*(?:=|:)\s*({NUMBER})\b", re.IGNORECASE))
_DURATION = (re.compile(r"\b(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b",
                        re.IGNORECASE),
             re.compile(rf"\b({NUMBER_WORDS}|an?|half\s+an?)\s+(seconds?|secs?|minutes?|mins?|hours?|hrs?)\b",
                        re.IGNORECASE),
             re.compile(r"\btimeout(?:_s)?\s*(?:=|:|of)?\s*(\d+)\b(?!\s*[a-z])", re.IGNORECASE))
_ROWS = (re.compile(rf"\b({NUMBER})\s+(?:rows?|lines?|records?|entries)\b", re.IGNORECASE),
         re.compile(rf"\b(?:head|preview|first|top)\s*\(?\s*({NUMBER})\b", re.IGNORECASE))
_LIMIT = (re.compile(rf"\b(?:last|latest|recent|top|first)\s+({NUMBER})\b", re.IGNORECASE),
          re.compile(rf"\b({NUMBER})\s+(?:(?:most\s+)?(?:recent|latest|last)\s+)?"
                     rf"(?:experiments?|runs?|records?|results?|models?|entries)\b", re.IGNORECASE))
_SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600}

# Words that follow "and" when it joins two requests rather than two models ("train RF and tune it").
_NEXT_REQUEST = (r"(?:also\s+|then\s+|please\s+)?(?:load|open|read|import|use|set|describe|profile|explore"
                 r"|summari[sz]e|show|display|list|give|print|preview|(?:re)?train|fit|build|try|compare|tune"
                 r"|exclude|drop|ignore|remove|leave"
                 r"|optimi[sz]e|maximi[sz]e|minimi[sz]e|search|predict|score|apply|report|write|generate"
                 r"|make|run|tell|what|which|find|pick|help|leaderboard|register|deploy|mirror|shadow|roll"
                 r"|rollback|revert|promote|release|if|when|check|evaluate|retrain"
                 r"|(?:the\s+)?(?:history|last|latest|best\s+model))\b")
_CLAUSE_BREAK = re.compile(rf"[;\n!?]+|(?<!\d),|,(?!\d{{3}}\b)|\.(?=\s|$)|\b(?:and\s+)?then\b"
                           rf"|\bafter\s+that\b|\band\s+(?={_NEXT_REQUEST})", re.IGNORECASE)


@dataclass(frozen=True)
class Marked:
    """The message with paths and quoted strings replaced by placeholders, so splitting cannot cut them."""

    text: str
    paths: tuple[str, ...]
    quotes: tuple[str, ...]

    def paths_in(self, clause: str) -> list[str]:
        """Paths whose placeholders occur in `clause`, in order."""
        return [self.paths[int(n)] for mark, n in _PLACEHOLDER.findall(clause) if mark == PATH_MARK]

    def quotes_in(self, clause: str) -> list[str]:
        """Quoted strings whose placeholders occur in `clause`, in order."""
        return [self.quotes[int(n)] for mark, n in _PLACEHOLDER.findall(clause) if mark == QUOTE_MARK]

    def plain(self, text: str) -> str:
        """`text` with paths blanked out and quoted strings put back without their quotes (for matching)."""
        return _PLACEHOLDER.sub(
            lambda m: f" {self.quotes[int(m.group(2))]} " if m.group(1) == QUOTE_MARK else " ", text)


def mark(message: str) -> Marked:
    """Replace data-file paths (quoted or bare) and other quoted strings with numbered placeholders."""
    text = message.translate(str.maketrans("“”‘’", "\"\"''"))
    paths: list[str] = []
    quotes: list[str] = []

    def keep(store: list[str], marker: str, value: str) -> str:
        store.append(value)
        return f" {marker}{len(store) - 1}{marker} "

    text = _QUOTED_PATH.sub(lambda m: keep(paths, PATH_MARK, m.group(2)), text)
    text = _BARE_PATH.sub(lambda m: keep(paths, PATH_MARK, m.group(1)), text)
    text = _QUOTED.sub(lambda m: keep(quotes, QUOTE_MARK, m.group(2)), text)
    return Marked(re.sub(r"[ \t]+", " ", text).strip(), tuple(paths), tuple(quotes))


def clauses(text: str) -> list[str]:
    """Split a marked message into request-sized clauses, in the order they were written."""
    return [c.strip() for c in _CLAUSE_BREAK.split(text) if c and c.strip(" .,")]


def to_int(words: str) -> int:
    """The value of a number written in digits or words ("50", "1,000", "twenty-five", "a hundred")."""
    words = words.lower().replace(",", "").strip()
    if words.isdigit():
        return int(words)
    parts = re.split(r"[\s-]+", words)
    if parts[-1] in ("hundred", "thousand"):
        head = 1 if parts[0] in ("a", "an") else _WORD_VALUE[parts[0]]
        return head * (100 if parts[-1] == "hundred" else 1000)
    if parts[-1] == "dozen":
        return 12
    return sum(_WORD_VALUE[p] for p in parts)


def _first_int(patterns: Iterable[re.Pattern], text: str) -> int | None:
    for pattern in patterns:
        if found := pattern.search(text):
            return to_int(found.group(1))
    return None


def trials(text: str) -> int | None:
    """The number of trials asked for ("50 trials", "ten iterations", "n_trials=30"), if any."""
    return _first_int(_TRIALS, text)


def rows(text: str) -> int | None:
    """The number of rows asked for ("first 10 rows", "head 20"), if any."""
    return _first_int(_ROWS, text)


def limit(text: str) -> int | None:
    """How many experiments to list ("last 5", "3 most recent runs"), if said."""
    return _first_int(_LIMIT, text)


def seconds(text: str) -> int | None:
    """A time budget in seconds ("for 5 minutes", "90s", "half an hour", "timeout 300"), if any."""
    for pattern in _DURATION:
        if not (found := pattern.search(text)):
            continue
        amount = found.group(1).lower()
        if re.fullmatch(r"\d+(?:\.\d+)?", amount):
            value = float(amount)
        elif amount.startswith("half"):
            value = 0.5
        else:
            value = 1.0 if amount in ("a", "an") else float(to_int(amount))
        unit = found.group(2).lower()[0] if found.lastindex and found.lastindex >= 2 else "s"
        return max(1, round(value * _SECONDS_PER_UNIT[unit]))
    return None


# Frequent words of this domain that must never be read as a misspelt model or metric.
COMMON_WORDS = frozenset("""
models model classifier classifiers regressor regressors regression classification trials trial train
training target dataset describe predict predictions score scores tuning optimize optimise maximize minimize
history report experiments experiment rows columns column minutes hours seconds best lowest highest forecast
precise accurate please those these there where which their about number model's search param params
""".split())


@dataclass(frozen=True)
class Mention:
    """A catalog key found in the text, with where it was found and whether only by a close spelling."""

    key: str
    start: int
    end: int
    fuzzy: bool = False


class Catalog:
    """Finds the keys of a vocabulary (models or metrics) by their key or any synonym, tolerating typos."""

    FUZZY_CUTOFF = 0.88  # "logistc regression", "gradient bosting" pass; "forecast" (0.86 to "forest") not
    FUZZY_MIN_CHARS = 5  # short words ("also", "lass") are too easily near a short synonym

    def __init__(self, names: dict[str, Iterable[str]]):
        self._phrases: dict[str, str] = {}
        for key, phrases in names.items():
            for phrase in (key, *phrases):
                self._phrases.setdefault(" ".join(re.split(r"[\s_-]+", phrase.lower().strip())), key)
        self._patterns = [
            (re.compile(r"(?<![a-z0-9])" + r"[\s_-]*".join(map(re.escape, phrase.split()))
                        + r"(?:e?s)?(?![a-z0-9])", re.IGNORECASE), key)
            for phrase, key in sorted(self._phrases.items(), key=lambda item: -len(item[0]))]

    def find(self, text: str, fuzzy: bool = True) -> list[Mention]:
        """Every mention in `text`, longest phrase first, then close misspellings of multi-letter synonyms."""
        found: list[Mention] = []
        for pattern, key in self._patterns:
            for match in pattern.finditer(text):
                if not any(m.start < match.end() and match.start() < m.end for m in found):
                    found.append(Mention(key, match.start(), match.end()))
        if fuzzy:
            found += self._close(text, found)
        return sorted(found, key=lambda m: m.start)

    def _close(self, text: str, taken: list[Mention]) -> list[Mention]:
        tokens = [t for t in re.finditer(r"[a-z][a-z0-9]*", text.lower())
                  if not any(m.start < t.end() and t.start() < m.end for m in taken)]
        found: list[Mention] = []
        for size in (3, 2, 1):
            for i in range(len(tokens) - size + 1):
                window = tokens[i:i + size]
                if any(m.start < window[-1].end() and window[0].start() < m.end for m in found):
                    continue
                if any(b.start() - a.end() > 1 for a, b in zip(window, window[1:], strict=False)):
                    continue  # words separated by punctuation or a placeholder are not one phrase
                words = [t.group() for t in window]
                if size == 1 and words[0] in COMMON_WORDS:
                    continue
                if key := self._closest(words):
                    found.append(Mention(key, window[0].start(), window[-1].end(), fuzzy=True))
        return found

    def _closest(self, words: list[str]) -> str | None:
        compact = "".join(words)
        if len(compact) < self.FUZZY_MIN_CHARS:
            return None
        scored = sorted(((fuzz.ratio(compact, phrase.replace(" ", "")) / 100, key)
                         for phrase, key in self._phrases.items()
                         if len(phrase.split()) == len(words) and len(phrase.replace(" ", "")) >= 4),
                        reverse=True)
        if not scored or scored[0][0] < self.FUZZY_CUTOFF:
            return None
        rivals = {key for ratio, key in scored if ratio > scored[0][0] - 0.02}
        return scored[0][1] if len(rivals) == 1 else None


MODEL_CATALOG = Catalog({key: model.synonyms for key, model in MODELS.items()})
METRIC_CATALOG = Catalog({key: metric.synonyms for key, metric in METRICS.items()})


def columns_named(phrase: str, columns: list[str], max_words: int = 5) -> list[str]:
    """Columns whose whole (normalized) name occurs in `phrase` as a run of words, in order of appearance."""
    by_norm = {normalize(c): c for c in columns}
    words = re.findall(r"[^\s,;]+", phrase)
    found: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(max_words, len(words) - i), 0, -1):
            column = by_norm.get(normalize(" ".join(words[i:i + size])))
            if column:
                if column not in found:
                    found.append(column)
                i += size - 1
                break
        i += 1
    return found

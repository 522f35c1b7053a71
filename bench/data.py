"""Seeded Titanic-shaped table with known generating process, so the best achievable scores are known.

Columns: pclass, name, sex, age (missing), sibsp, parch, ticket, fare, embarked (missing), deck (mostly
missing), survived. `survived` (classification) follows a logistic truth in the true age and the other
columns; `fare` (regression) is log-normal around a function of the same columns. Missing ages are missing
at random given `pclass`, and a missing age's title says nothing about it, so the Bayes-optimal predictions
given the observed columns are computed exactly by summing over the 81 possible ages.
Names are distinct by construction (an affine permutation of the name space), hence no duplicated rows.
"""

from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

CLASS_TARGET = "survived"
REG_TARGET = "fare"
IDENTIFIERS = ("name", "ticket")
AGES = np.arange(81)
FARE_SIGMA = 0.3
CHILD_AGE = 13

_CLASS_P = np.array([0.24, 0.21, 0.55])
_FEMALE_P = np.array([0.44, 0.41, 0.30])
_CHILD_P = np.array([0.04, 0.10, 0.16])
_ADULT_MEAN = np.array([39.0, 30.0, 25.0])
_AGE_MISSING_P = np.array([0.10, 0.07, 0.28])
_EMBARKED = np.array(["S", "C", "Q"])
_EMBARKED_P = np.array([[0.59, 0.39, 0.02], [0.89, 0.07, 0.04], [0.67, 0.10, 0.23]])
_DECKS = np.array(["A", "B", "C", "D", "E", "F", "G"])
_DECK_P = np.array([[0.10, 0.26, 0.32, 0.17, 0.13, 0.02, 0.00],
                    [0.00, 0.00, 0.00, 0.25, 0.25, 0.50, 0.00],
                    [0.00, 0.00, 0.00, 0.00, 0.30, 0.40, 0.30]])
_DECK_KNOWN_P = np.array([0.80, 0.12, 0.04])
_DECK_FARE = np.array([0.35, 0.45, 0.40, 0.25, 0.15, 0.0, -0.1])
_SIBSP_P = np.array([0.68, 0.23, 0.04, 0.02, 0.02, 0.005, 0.005])
_PARCH_P = np.array([0.76, 0.13, 0.09, 0.01, 0.005, 0.005])
_TICKET_PREFIXES = np.array(["PC", "A/5", "C.A.", "STON/O2.", "W./C.", "SOTON/O.Q.", "CA", "S.O.C.", "F.C.C.",
                             "SC/PARIS", "PP", "A/4"])

_SYLLABLES = ("al", "bar", "cor", "dan", "el", "fen", "gor", "hal", "is", "jor", "kel", "lin", "mor", "nel",
              "ost", "par", "quin", "ros", "sal", "tor", "ul", "van", "wil", "yor", "zan", "ber", "cas",
              "dun", "ev", "ford")
_FEMALE_FIRST = ("Mary", "Anna", "Elizabeth", "Margaret", "Helen", "Alice", "Ellen", "Catherine", "Emily",
                 "Bertha", "Edith", "Florence", "Ida", "Jane", "Louise", "Marion", "Nora", "Ruth", "Sarah",
                 "Agnes", "Clara", "Dora", "Eva", "Grace", "Hilda", "Irene", "Julia", "Kate", "Lily", "Mabel",
                 "Nellie", "Olive", "Pauline", "Rose", "Susan", "Thelma", "Violet", "Winnie", "Amy",
                 "Beatrice")
_MALE_FIRST = ("John", "William", "Charles", "George", "James", "Thomas", "Henry", "Arthur", "Frederick",
               "Albert", "Edward", "Joseph", "Richard", "Walter", "Harry", "Ernest", "Alfred", "Samuel",
               "Patrick", "Robert", "Daniel", "Frank", "Hugh", "Isaac", "Karl", "Leonard", "Martin", "Neal",
               "Oscar", "Peter", "Ralph", "Stanley", "Victor", "Wallace", "Axel", "Bernard", "Cyril", "David",
               "Emil", "Francis")
_SECOND = ("Ann", "Lee", "May", "Jean", "Ray", "Dale", "Lynn", "Rae", "Kay", "Joy", "Mae", "Roy", "Lou",
           "Belle", "Jay", "Dean", "Hope", "June", "Rene", "Faye", "Grant", "Hart", "Wade", "Kent", "Lane",
           "Reid", "Sloan", "Troy", "Vance", "Blake", "Brook", "Cole", "Drew", "Ellis", "Flynn", "Gale",
           "Hale", "Ives", "Jude", "Knox")
_SURNAMES = tuple(f"{a}{b}{c}".capitalize() for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES)
NAME_SPACE = len(_SURNAMES) * len(_MALE_FIRST) * len(_SECOND)


def _age_pmf() -> np.ndarray:
    """P(true age | pclass) on the integer ages 0..80: children uniform below 13, adults a rounded normal."""
    child = (AGES < CHILD_AGE) / CHILD_AGE
    pmf = np.empty((3, AGES.size))
    for c in range(3):
        adult = np.exp(-0.5 * ((AGES - _ADULT_MEAN[c]) / 13.0) ** 2) * (AGES >= CHILD_AGE)
        pmf[c] = _CHILD_P[c] * child + (1 - _CHILD_P[c]) * adult / adult.sum()
    return pmf


AGE_PMF = _age_pmf()


@dataclass(frozen=True)
class Truth:
    """Bayes-optimal predictions given the observed columns: P(survived=1) and E[fare]."""

    p_survived: np.ndarray
    fare_mean: np.ndarray


def survival_logit(age, pclass, female, family, embarked_c, deck_known) -> np.ndarray:
    """The logistic truth of `survived` (broadcasts over an age grid)."""
    child = age < CHILD_AGE
    return (0.55 + 2.5 * female - 1.0 * (pclass - 1) - 1.1 * female * (pclass == 3)
            + 1.6 * child * (1 - female) - 0.025 * np.maximum(age - 30, 0)
            + 0.35 * ((family >= 1) & (family <= 3)) - 0.55 * np.maximum(family - 3, 0)
            + 0.3 * embarked_c + 0.45 * deck_known - 0.9)


def log_fare_mean(age, pclass, family, embarked_c, deck_index) -> np.ndarray:
    """Mean of log(fare) (broadcasts over an age grid)."""
    deck_effect = np.where(deck_index >= 0, _DECK_FARE[np.maximum(deck_index, 0)], 0.0)
    return (np.array([4.1, 3.0, 2.3])[pclass - 1] + 0.35 * np.log1p(family) + deck_effect
            + 0.25 * embarked_c - 0.3 * (age < CHILD_AGE) + 0.004 * (age - 30))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _names(rng_index: np.ndarray, female: np.ndarray, titles: np.ndarray) -> list[str]:
    """Distinct Titanic-style names ("Surname, Title. First Second") from distinct name-space indices."""
    n_first, n_second = len(_MALE_FIRST), len(_SECOND)
    surname = rng_index // (n_first * n_second)
    first = (rng_index // n_second) % n_first
    second = rng_index % n_second
    return [f"{_SURNAMES[s]}, {t}. {(_FEMALE_FIRST if f else _MALE_FIRST)[i]} {_SECOND[j]}"
            for s, t, f, i, j in zip(surname, titles, female, first, second, strict=True)]


def _name_permutation(seed: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Two seeded affine maps x -> (a*x + b) mod NAME_SPACE (a coprime to the space: bijections)."""
    rng = np.random.default_rng([seed, 7])
    maps = []
    for _ in range(2):
        a = int(rng.integers(NAME_SPACE // 3, NAME_SPACE))
        while gcd(a, NAME_SPACE) != 1:
            a += 1
        maps.append((a, int(rng.integers(0, NAME_SPACE))))
    return maps[0], maps[1]


def _name_indices(start: int, n_rows: int, seed: int) -> np.ndarray:
    """Distinct name-space indices of rows start.., scrambled: affine map, digit rotation, affine map."""
    (a1, b1), (a2, b2) = _name_permutation(seed)
    x = (a1 * np.arange(start, start + n_rows, dtype=np.int64) + b1) % NAME_SPACE
    x = (x % len(_SURNAMES)) * (NAME_SPACE // len(_SURNAMES)) + x // len(_SURNAMES)
    return (a2 * x + b2) % NAME_SPACE


def generate(n_rows: int, seed: int = 0, start: int = 0,
             truth: bool = True) -> tuple[pd.DataFrame, Truth | None]:
    """Rows `start .. start+n_rows` of the seeded table (chunks with the same seed never share a name)."""
    if start + n_rows > NAME_SPACE:
        raise ValueError(f"at most {NAME_SPACE} distinct rows; asked for rows up to {start + n_rows}")
    rng = np.random.default_rng([seed, start])
    pclass = rng.choice(3, n_rows, p=_CLASS_P) + 1
    female = rng.random(n_rows) < _FEMALE_P[pclass - 1]
    age = np.empty(n_rows, dtype=np.int64)
    for c in range(3):
        rows = np.flatnonzero(pclass == c + 1)
        age[rows] = rng.choice(AGES, rows.size, p=AGE_PMF[c])
    age_missing = rng.random(n_rows) < _AGE_MISSING_P[pclass - 1]
    sibsp = rng.choice(_SIBSP_P.size, n_rows, p=_SIBSP_P)
    sibsp[sibsp == 6] = 8
    parch = rng.choice(_PARCH_P.size, n_rows, p=_PARCH_P)
    family = sibsp + parch
    embarked_index = _choice_by_class(rng, pclass, _EMBARKED_P)
    embarked_c = (embarked_index == 1).astype(float)
    deck_index = np.where(rng.random(n_rows) < _DECK_KNOWN_P[pclass - 1],
                          _choice_by_class(rng, pclass, _DECK_P), -1)
    deck_known = (deck_index >= 0).astype(float)

    logit = survival_logit(age, pclass, female, family, embarked_c, deck_known)
    survived = rng.random(n_rows) < _sigmoid(logit)
    noise = FARE_SIGMA * rng.standard_normal(n_rows)
    fare = np.exp(log_fare_mean(age, pclass, family, embarked_c, deck_index) + noise).astype(np.float32)

    titles = _titles(rng, female, age, age_missing)
    ticket_number = rng.integers(1000, 4_000_000, n_rows).astype(str)
    prefix = np.where(rng.random(n_rows) < np.array([0.45, 0.2, 0.15])[pclass - 1],
                      _TICKET_PREFIXES[rng.integers(0, _TICKET_PREFIXES.size, n_rows)], "")
    embarked = _EMBARKED[embarked_index].astype(object)
    embarked[rng.random(n_rows) < 0.002] = None
    frame = pd.DataFrame({
        "pclass": pclass.astype(np.int8),
        "name": _names(_name_indices(start, n_rows, seed), female, titles),
        "sex": np.where(female, "female", "male"),
        "age": np.where(age_missing, np.nan, age).astype(np.float32),
        "sibsp": sibsp.astype(np.int8),
        "parch": parch.astype(np.int8),
        "ticket": np.char.strip(np.char.add(np.char.add(prefix, " "), ticket_number)),
        "fare": fare,
        "embarked": embarked,
        "deck": np.where(deck_index >= 0, _DECKS[np.maximum(deck_index, 0)], None),
        CLASS_TARGET: survived.astype(np.int8),
    })
    if not truth:
        return frame, None
    return frame, _bayes(frame, age, age_missing, pclass, female, family, embarked_c, deck_index, logit)


def _choice_by_class(rng: np.random.Generator, pclass: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row from the row's class distribution (vectorised inverse CDF)."""
    cdf = probs.cumsum(axis=1)[pclass - 1]
    cdf[:, -1] = 1.0
    return (rng.random(pclass.size)[:, None] > cdf).sum(axis=1)


def _titles(rng: np.random.Generator, female: np.ndarray, age: np.ndarray,
            age_missing: np.ndarray) -> np.ndarray:
    """Titles consistent with a recorded age; for a missing age they depend on sex alone (no age leak)."""
    married = rng.random(female.size) < 0.55
    young = age < CHILD_AGE
    titles = np.where(female, np.where(~young & married, "Mrs", "Miss"), np.where(young, "Master", "Mr"))
    blind = np.where(female, np.where(married, "Mrs", "Miss"), "Mr")
    rare = (~female) & (rng.random(female.size) < 0.01)
    return np.where(rare, rng.choice(np.array(["Dr", "Rev", "Col"]), female.size),
                    np.where(age_missing, blind, titles))


def _bayes(frame, age, age_missing, pclass, female, family, embarked_c, deck_index, logit) -> Truth:
    """Exact Bayes predictions given the observed columns, the other target included, summing over ages."""
    p = _sigmoid(logit)
    fare_mean = np.exp(log_fare_mean(age, pclass, family, embarked_c, deck_index) + FARE_SIGMA ** 2 / 2)
    rows = np.flatnonzero(age_missing)
    for block in np.array_split(rows, max(1, rows.size // 100_000)):
        c, grid = pclass[block, None], AGES[None, :]
        prior = AGE_PMF[c[:, 0] - 1]
        p_age = _sigmoid(survival_logit(grid, c, female[block, None], family[block, None],
                                        embarked_c[block, None], deck_index[block, None] >= 0))
        mu_age = log_fare_mean(grid, c, family[block, None], embarked_c[block, None], deck_index[block, None])
        log_fare = np.log(frame["fare"].to_numpy(np.float64)[block, None])
        given_fare = prior * np.exp(-0.5 * ((log_fare - mu_age) / FARE_SIGMA) ** 2)
        p[block] = (given_fare * p_age).sum(axis=1) / given_fare.sum(axis=1)
        s = frame[CLASS_TARGET].to_numpy()[block, None] == 1
        given_survival = prior * np.where(s, p_age, 1 - p_age)
        fare_mean[block] = (given_survival * np.exp(mu_age + FARE_SIGMA ** 2 / 2)).sum(axis=1) \
            / given_survival.sum(axis=1)
    return Truth(p_survived=p, fare_mean=fare_mean)


def bayes_scores(frame: pd.DataFrame, truth: Truth, rows: np.ndarray) -> dict[str, float]:
    """Test-split scores of the Bayes-optimal predictions: accuracy, weighted F1, R² (the quality ceiling)."""
    from sklearn.metrics import accuracy_score, f1_score, r2_score

    y = frame[CLASS_TARGET].to_numpy()[rows]
    guess = (truth.p_survived[rows] > 0.5).astype(y.dtype)
    fare = frame[REG_TARGET].to_numpy(np.float64)[rows]
    return {"accuracy": float(accuracy_score(y, guess)),
            "expected_accuracy": float(np.maximum(truth.p_survived[rows], 1 - truth.p_survived[rows]).mean()),
            "f1": float(f1_score(y, guess, average="weighted")),
            "r2": float(r2_score(fare, truth.fare_mean[rows]))}


def write_parquet(path: Path, n_rows: int, seed: int = 0, chunk_rows: int = 1_000_000) -> Path:
    """Write `n_rows` rows in chunks (memory stays at one chunk: the 10M-row scale file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    try:
        for start in range(0, n_rows, chunk_rows):
            frame, _ = generate(min(chunk_rows, n_rows - start), seed=seed, start=start, truth=False)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path

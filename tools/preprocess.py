"""Feature preprocessing: a ColumnTransformer built from column roles, fitted on training rows only."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler, TargetEncoder

from tools.errors import ColumnError

MAX_CATEGORIES = 32  # one-hot columns per categorical feature, rarer levels share an OTHER_LEVEL column
MIN_FREQUENCY = 5  # levels seen fewer times in training are treated as infrequent
MISSING_LEVEL = "missing"
OTHER_LEVEL = "(other)"
DATETIME_PARTS = ("year", "month", "day", "dayofweek", "hour")
DROPPED = {
    "identifier": "identifier-like (nearly one value per row)",
    "leak": "it leaks the target (predicts it almost perfectly, so it is not known at prediction time)",
    "constant": "constant",
    "text": "free text, not modelled",
}


def build_preprocessor(frame: pd.DataFrame, target: str, roles: dict[str, str], *,
                       native: bool = False) -> tuple[ColumnTransformer, list[str]]:
    """An unfitted ColumnTransformer over the usable feature columns (dense float32 out), plus notes.

    numeric: median impute (+ missing indicator) and scale; categorical (and yes/no text): a "missing"
    level and one-hot of the frequent levels; numeric boolean: 0/1; datetime: calendar parts;
    high_cardinality: cross-fitted target encoding; identifier, leak, constant and text columns are
    dropped, each with a note.
    `native` is for models that split on missing values and categories themselves (histogram boosting):
    numbers stay unscaled with their missing values, and each categorical becomes one column of level codes
    (`categorical_mask` says which): far fewer columns than one-hot, so far fewer histograms to build.
    """
    groups: dict[str, list[str]] = {}
    for column in frame.columns:
        if column == target:
            continue
        role = roles.get(column, "unknown")
        if role == "boolean":
            role = "flag" if _is_numeric(frame[column]) else "categorical"
        groups.setdefault(role, []).append(column)

    notes = [f"dropped {_names(groups[role])}: {reason}"
             for role, reason in DROPPED.items() if role in groups]
    if "unknown" in groups:
        notes.append(f"dropped {_names(groups['unknown'])}: no role known for it")
    branches = _NATIVE_BRANCHES if native else _BRANCHES
    transformers = [(role, branches[role](), groups[role]) for role in branches if role in groups]
    if not transformers:
        raise ColumnError(
            f"No column can be used to predict '{target}' ({'; '.join(notes) or 'no other columns'}). "
            "Load a file with feature columns, or check the target.")
    if "high_cardinality" in groups:
        notes.append(f"target-encoded {_names(groups['high_cardinality'])} (many levels; cross-fitted)")
    if "datetime" in groups:
        notes.append(f"expanded {_names(groups['datetime'])} to {', '.join(DATETIME_PARTS)}")
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0), notes


def categorical_mask(fitted: ColumnTransformer) -> np.ndarray | None:
    """Which output columns of a fitted preprocessor hold level codes (None when it one-hot encodes)."""
    branch = fitted.named_transformers_.get("categorical")
    if not isinstance(branch, Levels) or branch.one_hot:
        return None
    return np.array([name.startswith("categorical__") for name in fitted.get_feature_names_out()])


def input_branches(pipeline) -> dict[str, str]:
    """Input column → the preprocessing branch that reads it (numeric, flag, categorical, datetime,
    high_cardinality) in a fitted dsgraph Pipeline, in input order; {} for any other estimator."""
    first = pipeline.steps[0][1] if hasattr(pipeline, "steps") else None
    return {str(column): branch for branch, transformer, columns in getattr(first, "transformers_", [])
            if transformer != "drop" and branch != "remainder" for column in columns}


def feature_columns(preprocessor: ColumnTransformer) -> list[str]:
    """The input columns `preprocessor` uses, in frame order of its branches."""
    return [column for _, _, columns in preprocessor.transformers for column in columns]


class Levels(TransformerMixin, BaseEstimator):
    """Categorical columns to one-hot columns (`one_hot`) or to one column of level codes each.

    Missing is the level "missing"; each column keeps its most frequent levels (at most `max_levels`, each
    seen `min_count` times or more) and every other level becomes OTHER_LEVEL. A level unseen in training
    is OTHER_LEVEL when training had one, else all zeros (one-hot) or NaN (codes). Levels are sorted, as
    scikit-learn's encoders sort them; pandas' hashed lookups keep this fast on millions of rows.
    """

    def __init__(self, one_hot: bool = True, max_levels: int = MAX_CATEGORIES - 1,
                 min_count: int = MIN_FREQUENCY) -> None:
        self.one_hot = one_hot
        self.max_levels = max_levels
        self.min_count = min_count

    def fit(self, X, y=None):
        frame = as_labels(X)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.categories_ = []
        for column in frame.columns:
            counts = frame[column].value_counts()
            kept = counts[counts >= self.min_count].index[:self.max_levels].tolist()
            self.categories_.append(sorted(kept + ([OTHER_LEVEL] if len(kept) < len(counts) else [])))
        return self

    def transform(self, X) -> np.ndarray:
        frame = as_labels(X)
        blocks = []
        for column, levels in zip(frame.columns, self.categories_, strict=True):
            codes = pd.Index(levels).get_indexer(frame[column])  # -1: a level outside `levels`
            if OTHER_LEVEL in levels:
                codes[codes < 0] = levels.index(OTHER_LEVEL)
            known = codes >= 0
            if self.one_hot:
                block = np.zeros((len(codes), len(levels)), dtype=np.float32)
                block[np.flatnonzero(known), codes[known]] = 1.0
            else:
                block = np.where(known, codes, np.nan).astype(np.float32)[:, None]
            blocks.append(block)
        return np.hstack(blocks)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        columns = self.feature_names_in_ if input_features is None else input_features
        if not self.one_hot:
            return np.asarray(columns, dtype=object)
        pairs = zip(columns, self.categories_, strict=True)
        return np.asarray([f"{column}_{level}" for column, levels in pairs for level in levels], dtype=object)


class DatetimeParts(TransformerMixin, BaseEstimator):
    """Datetime columns to float32 calendar parts (year, month, day, day of week, hour); NaT stays NaN."""

    def fit(self, X, y=None):
        self.feature_names_in_ = np.asarray(pd.DataFrame(X).columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, X) -> np.ndarray:
        frame = pd.DataFrame(X)
        parts = []
        for column in frame.columns:
            stamps = pd.to_datetime(frame[column], errors="coerce")
            parts += [getattr(stamps.dt, part).astype("float32").to_numpy() for part in DATETIME_PARTS]
        return np.column_stack(parts).astype(np.float32)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        columns = self.feature_names_in_ if input_features is None else input_features
        return np.asarray([f"{column}_{part}" for column in columns for part in DATETIME_PARTS], dtype=object)


def as_number(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as float32; text that is not a number becomes NaN (new files may type columns differently)."""
    frame = pd.DataFrame(frame)
    return frame.apply(lambda s: pd.to_numeric(s, errors="coerce")).astype("float32")


def as_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as object strings with missing values as the level "missing" (an informative level, and no
    pandas 3 `str` / pd.NA values reach scikit-learn)."""
    frame = pd.DataFrame(frame)
    return frame.astype(str).astype(object).where(frame.notna().to_numpy(), MISSING_LEVEL)


def as_float32(values) -> np.ndarray:
    """Dense float32 array."""
    return np.asarray(values, dtype=np.float32)


def _numeric() -> Pipeline:
    return Pipeline([("number", _step(as_number)),
                     ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                     ("scale", StandardScaler()), ("float32", _step(as_float32))])


def _categorical() -> Levels:
    return Levels(one_hot=True)


def _native_categorical() -> Levels:
    return Levels(one_hot=False)


def _flag() -> Pipeline:
    return Pipeline([("number", _step(as_number)), ("impute", SimpleImputer(strategy="most_frequent"))])


def _datetime() -> Pipeline:
    return Pipeline([("parts", DatetimeParts()), ("impute", SimpleImputer(strategy="median")),
                     ("scale", StandardScaler()), ("float32", _step(as_float32))])


def _high_cardinality() -> Pipeline:
    return Pipeline([
        ("labels", _step(as_labels)),
        ("target", TargetEncoder(cv=KFold(5, shuffle=True, random_state=0))),
        ("float32", _step(as_float32))])


def _as_numbers() -> FunctionTransformer:
    return _step(as_number)


_BRANCHES = {"numeric": _numeric, "flag": _flag, "categorical": _categorical,
             "datetime": _datetime, "high_cardinality": _high_cardinality}
_NATIVE_BRANCHES = _BRANCHES | {"numeric": _as_numbers, "flag": _as_numbers,
                                "categorical": _native_categorical, "datetime": DatetimeParts}


def _step(function) -> FunctionTransformer:
    return FunctionTransformer(function, feature_names_out="one-to-one")


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series)


def _names(columns: list[str]) -> str:
    label = "column" if len(columns) == 1 else "columns"
    return f"{label} " + ", ".join(f"'{c}'" for c in columns)

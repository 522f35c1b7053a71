"""Preprocessing: roles become a float32 ColumnTransformer that survives messy and unseen values."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tools.errors import ColumnError
from tools.preprocess import (
    MAX_CATEGORIES,
    OTHER_LEVEL,
    build_preprocessor,
    categorical_mask,
    feature_columns,
)
from tools.profile import column_roles

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_titanic_drops_leaks_and_identifiers_with_notes_and_outputs_dense_float32(titanic):
    roles = column_roles(titanic, "survived")
    preprocessor, notes = build_preprocessor(titanic, "survived", roles)
    used = feature_columns(preprocessor)
    assert {"boat", "body", "name"}.isdisjoint(used) and "survived" not in used
    assert any("'boat'" in note and "'body'" in note and "leak" in note for note in notes)
    assert any("'name'" in note and "identifier" in note for note in notes)
    X = titanic[used]
    encoded = preprocessor.fit_transform(X.iloc[:1000], titanic["survived"].iloc[:1000])
    assert isinstance(encoded, np.ndarray) and encoded.dtype == np.float32
    assert not np.isnan(encoded).any()
    assert encoded.shape[1] < 80  # high-cardinality text is not one-hot encoded


def test_unseen_categories_missing_values_and_pandas_str_na_are_handled():
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame({
        "colour": pd.Series(rng.choice(["red", "green", "blue", None], n), dtype="str"),
        "code": pd.Series([f"c{i % 80}" if i % 7 else None for i in range(n)], dtype="str"),
        "size": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)).astype("float32"),
        "flag": pd.Series(rng.choice(["yes", "no"], n), dtype="str"),
        "when": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D"),
        "y": rng.integers(0, 2, n),
    })
    roles = {"colour": "categorical", "code": "high_cardinality", "size": "numeric", "flag": "boolean",
             "when": "datetime"}
    preprocessor, notes = build_preprocessor(frame, "y", roles)
    X = frame.drop(columns="y")
    preprocessor.fit(X, frame["y"])
    unseen = pd.DataFrame({"colour": ["purple", None], "code": ["never-seen", None], "size": [np.nan, 1.0],
                           "flag": ["maybe", None], "when": [pd.NaT, pd.Timestamp("2030-05-01")]})
    encoded = preprocessor.transform(unseen)
    assert encoded.dtype == np.float32 and encoded.shape[0] == 2 and not np.isnan(encoded).any()
    names = list(preprocessor.get_feature_names_out())
    assert "datetime__when_year" in names and "numeric__missingindicator_size" in names
    assert any(note.startswith("expanded column 'when'") for note in notes)


def test_one_hot_is_capped_for_many_levels():
    levels = [f"level{i}" for i in range(200)]
    frame = pd.DataFrame({"kind": levels * 10, "y": np.arange(2000) % 2})
    preprocessor, _ = build_preprocessor(frame, "y", {"kind": "categorical"})
    encoded = preprocessor.fit_transform(frame[["kind"]], frame["y"])
    assert encoded.shape[1] <= MAX_CATEGORIES


def test_no_usable_column_is_a_column_error():
    frame = pd.DataFrame({"id": range(20), "y": [0, 1] * 10})
    with pytest.raises(ColumnError, match="No column can be used"):
        build_preprocessor(frame, "y", {"id": "identifier"})


def test_native_preprocessor_keeps_gaps_and_codes_categories_in_one_column_each(titanic):
    roles = column_roles(titanic, "survived")
    one_hot, _ = build_preprocessor(titanic, "survived", roles)
    native, _ = build_preprocessor(titanic, "survived", roles, native=True)
    X, y = titanic[feature_columns(native)], titanic["survived"]
    wide, narrow = one_hot.fit_transform(X, y), native.fit_transform(X, y)
    assert categorical_mask(one_hot) is None
    mask = categorical_mask(native)
    categorical = [c for c, role in roles.items() if role == "categorical" and c in X.columns]
    assert mask.sum() == len(categorical) and narrow.shape[1] < wide.shape[1]
    assert np.isnan(narrow).any(), "missing numbers stay missing for a model that splits on them"
    codes = narrow[:, mask]
    assert np.array_equal(codes, np.round(codes)) and codes.min() >= 0 and codes.max() < MAX_CATEGORIES
    # a level never seen in training is the other-level code when training had one, else missing (NaN)
    unseen = X.iloc[:2].copy()
    unseen[categorical] = "never-seen"
    codes = native.transform(unseen)[:, mask]
    levels = native.named_transformers_["categorical"].categories_
    expected = [[row.index(OTHER_LEVEL) if OTHER_LEVEL in row else np.nan for row in levels]] * 2
    np.testing.assert_array_equal(codes, np.asarray(expected, dtype=np.float32))

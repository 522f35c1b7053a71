"""Profiling on the real samples: kinds, roles, leak flags, task inference, target checks and describe()."""

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tools.errors import ColumnError, DataError, ToolError
from tools.loading import load_dataset
from tools.profile import (
    SAMPLE_ROWS,
    _heatmap_frame,
    column_roles,
    column_schema,
    describe,
    infer_task,
    resolve_column,
    validate_target,
)

PNG = b"\x89PNG\r\n\x1a\n"


SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_titanic_roles_flag_leaks_and_identifiers(titanic):
    roles = column_roles(titanic, "survived")
    assert "survived" not in roles
    assert roles["boat"] == "leak" and roles["body"] == "leak"
    assert roles["name"] == "identifier" and roles["ticket"] == "identifier"
    assert roles["sex"] != "leak" and roles["pclass"] != "leak"
    assert roles["sex"] == "categorical" and roles["age"] == "numeric"
    assert roles["cabin"] == "high_cardinality"


def test_titanic_describe(titanic, tmp_path):
    summary = describe(titanic, "survived", tmp_path)
    json.dumps(summary)
    assert summary["rows"] == 1309 and summary["cols"] == 14
    assert summary["task"] == "classification" and "2 distinct integer values" in summary["task_reason"]
    assert summary["target"]["counts"] == {"0": 809, "1": 500}
    assert {leak["column"] for leak in summary["flags"]["leak"]} == {"boat", "body"}
    assert set(summary["flags"]["identifier"]) == {"name", "ticket"}
    assert summary["missing"]["body"] == 1188
    top = [a["column"] for a in summary["associations"][:3]]
    assert "sex" in top
    assert set(summary["plots"]) == {"missingness", "correlations", "target", "top_features"}
    for path in summary["plots"].values():
        assert open(path, "rb").read(8) == PNG
    assert "Leak: `boat`" in summary["markdown"] and "| column |" in summary["markdown"]


def test_adult_income_is_classification_without_false_leaks(samples):
    frame = load_dataset(samples / "adult.csv.gz").frame
    task, reason = infer_task(frame["income"])
    assert task == "classification" and "labels" in reason
    roles = column_roles(frame, "income")
    assert "leak" not in roles.values() and "identifier" not in roles.values()
    validate_target(frame, "income")


def test_ames_regression_and_row_ids(samples):
    frame = load_dataset(samples / "ames_housing.csv.gz").frame
    assert infer_task(frame["SalePrice"])[0] == "regression"
    roles = column_roles(frame, "SalePrice")
    assert roles["Order"] == "identifier" and roles["PID"] == "identifier"
    assert roles["Overall Qual"] == "numeric" and roles["Neighborhood"] == "categorical"
    assert "leak" not in roles.values()
    summary = describe(frame, "SalePrice")
    assert summary["associations"][0]["column"] == "Overall Qual"
    assert summary["target"]["min"] > 0 and summary["plots"] == {}


def test_penguins_multiclass_and_no_leaks(samples):
    frame = load_dataset(samples / "penguins.csv").frame
    assert infer_task(frame["species"])[0] == "classification"
    assert frame["species"].nunique() == 3
    assert "leak" not in column_roles(frame, "species").values()


def test_synthetic_leaks_regression_and_copies():
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.normal(size=n)
    y = 3 * x + rng.normal(scale=1.0, size=n)
    frame = pd.DataFrame(
        {
            "x": x,
            "y": y,
            "y_copy": y * 2 + 1,
            "noise": rng.normal(size=n),
            "grade": rng.choice(list("abc"), n),
        }
    )
    roles = column_roles(frame, "y")
    assert roles["y_copy"] == "leak" and roles["x"] == "numeric" and roles["grade"] == "categorical"
    labels = pd.Series(np.where(x > 0, "yes", "no"))
    frame = pd.DataFrame(
        {
            "x": x,
            "label": labels,
            "code": labels.map({"yes": "Y1", "no": "N0"}),
            "row_id": np.arange(n),
            "constant": 1.0,
        }
    )
    roles = column_roles(frame, "label")
    assert roles["x"] == "leak" and roles["code"] == "leak"
    assert roles["row_id"] == "identifier" and roles["constant"] == "constant"


def test_imbalanced_target_is_not_a_leak_everywhere():
    rng = np.random.default_rng(1)
    n = 5000
    frame = pd.DataFrame(
        {
            "rare": np.where(rng.random(n) < 0.02, 1, 0),
            "a": rng.normal(size=n),
            "b": rng.choice(["u", "v", "w"], n),
            "c": np.where(rng.random(n) < 0.5, np.nan, 1.0),
        }
    )
    assert "leak" not in column_roles(frame, "rare").values()


def test_infer_task_reasons():
    assert infer_task(pd.Series([1.5, 2.25, 3.75, 4.0] * 5, name="v"))[0] == "regression"
    assert infer_task(pd.Series(list(range(100)), name="count"))[0] == "regression"
    task, reason = infer_task(pd.Series([1, 2, 3] * 10, name="grade"))
    assert task == "classification" and "3 distinct integer values (1, 2, 3)" in reason
    assert infer_task(pd.Series([True, False] * 10))[0] == "classification"


def test_resolve_column():
    columns = ["Sale Price", "Lot_Area", "survived", "home.dest"]
    assert resolve_column(columns, "survived") == "survived"
    assert resolve_column(columns, "saleprice") == "Sale Price"
    assert resolve_column(columns, "lot area") == "Lot_Area"
    with pytest.raises(ColumnError, match="Did you mean `survived`"):
        resolve_column(columns, "survive")
    with pytest.raises(ColumnError, match="Available columns: Sale Price"):
        resolve_column(columns, "zzz")
    with pytest.raises(ColumnError, match="several columns"):
        resolve_column(["a b", "a_b"], "ab")


def test_target_checks_raise_typed_errors():
    frame = pd.DataFrame(
        {
            "x": np.arange(20.0),
            "empty": np.nan,
            "one": "yes",
            "few": [1.0, 2.0, 1.0] + [np.nan] * 17,
            "ok": ["a", "b"] * 10,
        }
    )
    cases = {
        "empty": (ColumnError, "no values"),
        "one": (ColumnError, "single value ('yes')"),
        "few": (DataError, "3 labelled rows; at least 10"),
        "Ok": (ColumnError, "did you mean `ok`"),
        "missing": (ColumnError, "There is no column `missing`"),
    }
    for target, (kind, message) in cases.items():
        with pytest.raises(ToolError) as caught:
            validate_target(frame, target)
        assert type(caught.value) is kind and message in str(caught.value), (target, str(caught.value))
    validate_target(frame, "ok")


def test_column_schema_kinds_and_truncation():
    frame = pd.DataFrame(
        {
            "when": pd.date_range("2020-01-01", periods=60),
            "flag": [True, False] * 30,
            "note": [f"a rather long free text sentence number {i} with many words" for i in range(60)],
            "n": np.arange(60.0) % 7,
        }
    )
    schema = {c["name"]: c for c in column_schema(frame, examples=2, max_chars=10)}
    assert schema["when"]["kind"] == "datetime" and schema["flag"]["kind"] == "boolean"
    assert schema["note"]["kind"] == "text" and schema["n"]["kind"] == "numeric"
    assert all(len(e) <= 10 for e in schema["note"]["examples"]) and len(schema["note"]["examples"]) == 2
    assert schema["n"]["unique"] == 7 and schema["n"]["missing"] == 0


def test_describe_is_fast_on_a_large_table():
    rng = np.random.default_rng(0)
    n = 300_000
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n).astype("float32") for i in range(8)})
    frame["city"] = pd.Series(rng.choice(["Oslo", "Lima", "Pune", "Rome"], n), dtype="str")
    frame["y"] = (frame["x0"] + rng.normal(size=n) > 0).astype("float32")
    start = time.perf_counter()
    summary = describe(frame, "y")
    assert time.perf_counter() - start < 10
    assert summary["sample_rows"] == SAMPLE_ROWS and f"sample of {SAMPLE_ROWS:,} rows" in summary["markdown"]
    assert summary["associations"][0]["column"] == "x0"


def test_a_target_with_hundreds_of_classes_is_refused_with_counts_and_ways_out():
    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame(
        {"x": rng.normal(size=n), "label": [f"class_{i}" for i in rng.integers(0, 500, n)]}
    )
    classes = frame["label"].nunique()
    singles = int((frame["label"].value_counts() == 1).sum())
    with pytest.raises(ColumnError) as caught:
        validate_target(frame, "label")
    message = str(caught.value)
    assert f"{classes} classes over 2,000 labelled rows" in message
    assert f"{singles} classes have a single row" in message
    assert "Group rare classes" in message and "different target" in message
    assert "regression" not in message
    codes = pd.DataFrame({"x": np.arange(60.0), "code": np.arange(60) % 15})  # 15 classes of 4 rows
    with pytest.raises(ColumnError, match=r"15 classes over 60 labelled rows .* train it as regression"):
        validate_target(codes, "code")


def test_a_numeric_target_that_numbers_the_rows_is_refused():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=500), "row": rng.permutation(np.arange(1, 501))})
    with pytest.raises(ColumnError, match=r"different consecutive integer in every row \(1 to 500\)"):
        validate_target(frame, "row")
    frame["count"] = rng.poisson(40, 500)  # integers, many repeated: a real quantity
    validate_target(frame, "count")
    frame["gaps"] = np.arange(0, 1000, 2)  # distinct integers but not consecutive
    validate_target(frame, "gaps")


def test_targets_of_the_samples_pass_the_checks(samples):
    for name, target, task in (
        ("titanic.csv", "survived", "classification"),
        ("adult.csv.gz", "income", "classification"),
        ("penguins.csv", "species", "classification"),
        ("ames_housing.csv.gz", "SalePrice", "regression"),
        ("diamonds.csv.gz", "price", "regression"),
    ):
        frame = load_dataset(samples / name).frame
        validate_target(frame, target)
        assert infer_task(frame[target])[0] == task, name
    ames = load_dataset(samples / "ames_housing.csv.gz").frame
    with pytest.raises(ColumnError, match="numbers the rows"):
        validate_target(ames, "Order")


def test_wide_tables_are_profiled_in_proportion_to_their_size(tmp_path):
    rng = np.random.default_rng(0)
    numbers = pd.DataFrame(rng.normal(size=(12, 1000)), columns=[f"sensor_{i}" for i in range(1000)])
    words = np.array("the quick brown fox jumps over a lazy dog while birds sing".split())
    notes = pd.DataFrame(
        {f"note_{i}": [" ".join(rng.choice(words, 8)) for _ in range(12)] for i in range(500)}
    )
    for frame, target in ((numbers, "sensor_0"), (notes, None)):
        start = time.perf_counter()
        schema = column_schema(frame)
        assert time.perf_counter() - start < 1.0
        start = time.perf_counter()
        summary = describe(frame, target, tmp_path / str(target))
        assert time.perf_counter() - start < 3.0
        assert len(schema) == frame.shape[1] and summary["flags"]["leak"] == []
        assert f"… {frame.shape[1] - 30} more columns" in summary["markdown"]
        assert all(open(path, "rb").read(8) == PNG for path in summary["plots"].values())


def test_the_heatmap_of_a_wide_table_shows_the_columns_linked_with_the_target():
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(rng.normal(size=(n, 60)), columns=[f"x{i}" for i in range(60)])
    frame["y"] = frame[["x7", "x42", "x13"]].sum(axis=1) + rng.normal(size=n)
    summary = describe(frame, "y")
    shown = list(_heatmap_frame(frame, "y", summary["associations"]).columns)
    assert len(shown) == 20 and shown[0] == "y" and set(shown[1:4]) == {"x7", "x42", "x13"}

"""Loading real and malformed files: formats, cleaning, typed errors and the cache."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tools.errors import DataError, ToolError
from tools.loading import MIN_ROWS, file_sha256, load_cached, load_dataset


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _rows(n: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "x": rng.normal(size=n).round(3),
            "city": rng.choice(["Oslo", "Lima", "Pune"], size=n),
            "y": rng.integers(0, 2, n),
        }
    )


def test_titanic_loads_with_question_marks_as_missing(samples):
    data = load_dataset(samples / "titanic.csv")
    frame = data.frame
    assert frame.shape == (1309, 14)
    assert data.sha256.startswith("c617db2c7470")
    assert frame["body"].dtype == np.float32 and frame["body"].isna().sum() == 1188
    assert frame["age"].dtype == np.float32
    assert set(frame["survived"].unique()) == {0.0, 1.0}
    assert any("'?'" in note for note in data.notes)


def test_adult_strips_whitespace_and_drops_row_numbers(samples):
    data = load_dataset(samples / "adult.csv.gz")
    frame = data.frame
    assert "Unnamed: 0" not in frame.columns and len(frame) == 32561
    assert sorted(frame["income"].unique()) == ["<=50K", ">50K"]
    assert frame["workclass"].isna().sum() > 1000  # " ?" markers
    assert frame["age"].dtype == np.float32


def test_ames_and_penguins_load(samples):
    ames = load_dataset(samples / "ames_housing.csv.gz").frame
    assert ames.shape == (2930, 82)
    assert pd.api.types.is_numeric_dtype(ames["SalePrice"])
    assert ames["PID"].dtype == np.int64  # ids beyond float32's exact range stay integers
    penguins = load_dataset(samples / "penguins.csv").frame
    assert penguins["species"].nunique() == 3 and penguins["sex"].isna().sum() == 11


def _malformed(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)))
    return {
        "missing": (tmp_path / "nowhere.csv", "not found"),
        "empty": (_write(tmp_path / "empty.csv", ""), "empty"),
        "blank": (_write(tmp_path / "blank.csv", "\n\n  \n"), "blank"),
        "header only": (_write(tmp_path / "header.csv", "a,b,c\n"), "no data rows"),
        "junk": (junk, "binary"),
        "one row": (_write(tmp_path / "sales.csv", "a,b\n1,2\n"), "`sales.csv` has 1 row; at least 10 rows"),
        "duplicates": (
            _write(tmp_path / "dup.csv", "a,b,a\n" + "1,2,3\n" * 12),
            "duplicate column names: 'a'",
        ),
        "extension": (
            _write(tmp_path / "table.docx", "a,b\n"),
            "unsupported file type `.docx`; supported: .csv",
        ),
        "bad gzip": (_write(tmp_path / "bad.csv.gz", "a,b\n1,2\n"), "not a valid gzip"),
        "bad parquet": (_write(tmp_path / "bad.parquet", "a,b\n1,2\n"), "could not be read as Parquet"),
        "bad json": (_write(tmp_path / "bad.json", "a,b\n1,2\n"), "not JSON"),
        "directory": (tmp_path, "not a file"),
    }


def test_malformed_files_raise_data_error_naming_the_problem(tmp_path):
    for case, (path, message) in _malformed(tmp_path).items():
        with pytest.raises(ToolError) as caught:
            load_dataset(path)
        assert isinstance(caught.value, DataError), case
        assert message in str(caught.value), (case, str(caught.value))
        if path.is_file() or case == "missing":
            assert f"`{path.name}`" in str(caught.value), case


def test_semicolon_latin1_thousands_markers_and_dates(tmp_path):
    lines = ["Name;Amount;Code;When;Ratio"]
    for i in range(12):
        amount = f"{1000 + i * 250:,}" if i != 3 else "?"
        lines.append(f'Zoë {i};"{amount}";0{i % 3}7; 2024-01-{i + 1:02d} ;{i},5')
    data = load_dataset(_write(tmp_path / "latin.csv", "\n".join(lines) + "\n", "latin-1"))
    frame = data.frame
    assert frame["Name"].iloc[0] == "Zoë 0"
    assert frame["Amount"].iloc[1] == 1250 and frame["Amount"].isna().sum() == 1
    assert frame["Code"].iloc[0] == "007"  # leading zeros mark a code, not a number
    assert pd.api.types.is_datetime64_any_dtype(frame["When"]) and frame["When"].iloc[2].day == 3
    assert frame["Ratio"].iloc[1] == pytest.approx(1.5)  # decimal comma in a semicolon file
    assert any("latin-1" in n for n in data.notes) and any("';'" in n for n in data.notes)


def test_bom_padding_and_na_markers(tmp_path):
    rows = [f" {40 + i} ,{'N/A' if i == 0 else 'x'},{'' if i == 1 else i}" for i in range(12)]
    data = load_dataset(_write(tmp_path / "bom.csv", "\ufeffage,flag,n\n" + "\n".join(rows) + "\n"))
    frame = data.frame
    assert list(frame.columns) == ["age", "flag", "n"]
    assert frame["age"].dtype == np.float32 and frame["age"].iloc[2] == 42
    assert frame["flag"].isna().sum() == 1 and frame["n"].isna().sum() == 1


def test_day_first_dates(tmp_path):
    rows = [f"{d}/03/2023,{d}" for d in range(10, 25)]
    frame = load_dataset(_write(tmp_path / "d.csv", "when,v\n" + "\n".join(rows) + "\n")).frame
    assert frame["when"].iloc[0] == pd.Timestamp("2023-03-10")


@pytest.mark.parametrize("suffix", [".parquet", ".json", ".jsonl", ".xlsx", ".tsv", ".csv.gz"])
def test_round_trips(tmp_path, suffix):
    frame = _rows()
    path = tmp_path / f"t{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    elif suffix == ".json":
        frame.to_json(path, orient="records")
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    else:
        with gzip.open(path, "wt") as handle:
            frame.to_csv(handle, index=False)
    loaded = load_dataset(path).frame
    assert list(loaded.columns) == list(frame.columns) and len(loaded) == len(frame)
    assert np.allclose(loaded["x"].to_numpy(), frame["x"].to_numpy(), atol=1e-5)
    assert loaded["city"].tolist() == frame["city"].tolist()
    assert loaded["y"].tolist() == frame["y"].tolist()


def test_excel_duplicate_header(tmp_path):
    path = tmp_path / "dup.xlsx"
    pd.DataFrame(np.ones((12, 2)), columns=["a", "b"]).rename(columns={"b": "a"}).to_excel(path, index=False)
    with pytest.raises(DataError, match="duplicate column names: 'a'"):
        load_dataset(path)


def test_cache_memory_disk_and_change_detection(tmp_path):
    path = tmp_path / "t.csv"
    _rows().to_csv(path, index=False)
    first = load_cached(path, cache_dir=tmp_path / "cache")
    disk = tmp_path / "cache" / f"{first.sha256}.parquet"
    assert disk.is_file() and first.sha256 == file_sha256(path)
    again = load_cached(path, sha256=first.sha256, cache_dir=tmp_path / "cache")
    pd.testing.assert_frame_equal(first.frame, again.frame)
    again.frame.loc[0, "x"] = 99.0  # callers cannot corrupt the cached frame
    assert load_cached(path).frame.loc[0, "x"] != 99.0
    _rows(15).to_csv(path, index=False)
    with pytest.raises(DataError, match="changed since it was loaded"):
        load_cached(path, sha256=first.sha256)
    assert len(load_cached(path, cache_dir=tmp_path / "cache").frame) == 15


def test_disk_cache_is_reused_with_notes(tmp_path, samples):
    cache = tmp_path / "cache"
    first = load_cached(samples / "penguins.csv", cache_dir=cache)
    from tools import loading

    loading._MEMORY.clear()  # a new process would start with an empty memory cache
    again = load_cached(samples / "penguins.csv", cache_dir=cache)
    assert again.notes == first.notes
    pd.testing.assert_frame_equal(first.frame, again.frame)


def test_min_rows_is_ten():
    assert MIN_ROWS == 10

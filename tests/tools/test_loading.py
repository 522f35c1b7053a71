"""Loading real and malformed files: formats, cleaning, typed errors and the cache."""

import bz2
import gzip
import io
import lzma
import struct
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import zstandard

from tools import formats
from tools.errors import DataError, ToolError
from tools.loading import file_sha256, load_cached, load_dataset, load_with_cells


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _biff_record(kind: int, payload: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(payload)) + payload


def _xls_bytes(frame: pd.DataFrame) -> bytes:
    """An old Excel (.xls) workbook: BIFF8 records in an OLE2 container, just the records xlrd needs
    (nothing installed writes .xls any more)."""
    bof = [_biff_record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0xDBB, 0x7CC, 0, 6)) for kind in (5, 16)]
    xf = _biff_record(0x00E0, bytes(20))  # one cell format: General
    sheet_at = len(bof[0]) + len(xf) + 4 + 14 + 4  # globals: BOF, XF, BOUNDSHEET("Sheet1"), EOF
    boundsheet = _biff_record(0x0085, struct.pack("<IBBBB", sheet_at, 0, 0, 6, 0) + b"Sheet1")
    cells = []
    for r, row in enumerate([list(frame.columns), *frame.itertuples(index=False)]):
        for c, value in enumerate(row):
            if isinstance(value, str):
                text = value.encode("latin-1")
                cells.append(_biff_record(0x0204, struct.pack("<HHHHB", r, c, 0, len(text), 0) + text))
            else:
                cells.append(_biff_record(0x0203, struct.pack("<HHHd", r, c, 0, float(value))))
    stream = bof[0] + xf + boundsheet + _biff_record(0x000A) + bof[1] + b"".join(cells) + _biff_record(0x000A)
    stream = stream.ljust(max(4096, -(-len(stream) // 512) * 512), b"\0")  # no mini-stream: whole sectors
    sectors = len(stream) // 512
    end, free = 0xFFFFFFFE, 0xFFFFFFFF
    fat = [0xFFFFFFFD, end, *range(3, 2 + sectors), end] + [free] * (126 - sectors)  # FAT, directory, stream
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(10) + struct.pack("<8I", 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<109I", 0, *[free] * 108)  # the FAT is sector 0
    )

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        fields = struct.pack("<HBBIII", len(encoded), kind, 1, free, free, child)
        return encoded.ljust(64, b"\0") + fields + bytes(36) + struct.pack("<III", start, size, 0)

    directory = entry("Root Entry", 5, 1, end, 0) + entry("Workbook", 2, free, 2, len(stream))
    return header + struct.pack("<128I", *fat) + directory + entry("", 0, free, free, 0) * 2 + stream


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
        "extension": (
            _write(tmp_path / "table.docx", "a,b\n"),
            "unsupported file type `.docx`; supported: .csv",
        ),
        "bad gzip": (_bytes(tmp_path / "bad.csv.gz", gzip.compress(b"a,b\n1,2\n" * 9)[:30]), "valid gzip"),
        "bad parquet": (_bytes(tmp_path / "bad.parquet", _rows().to_parquet()[:200]), "read as Parquet"),
        "bad json": (_write(tmp_path / "bad.json", "just some words\nand no table\n"), "not JSON"),
        "bad zip": (_bytes(tmp_path / "bad.zip.csv", _zipped({"a.csv": b"a,b\n"})[:40]), "not a valid zip"),
        "zip of two": (
            _bytes(tmp_path / "two.csv.zip", _zipped({"a.csv": b"a\n1\n", "b.csv": b"b\n2\n"})),
            "zip archive of 2 files (a.csv, b.csv)",
        ),
        "fake xls": (_bytes(tmp_path / "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)), "Excel"),
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


def test_excel_duplicate_header_is_made_unique(tmp_path):
    path = tmp_path / "dup.xlsx"
    frame = pd.DataFrame(np.arange(36).reshape(12, 3), columns=["a", "b", "c"])
    frame.rename(columns={"b": "a", "c": "a.1"}).to_excel(path, index=False)
    data = load_dataset(path)
    assert list(data.frame.columns) == ["a", "a.2", "a.1"]  # `a.1` is taken, so the second `a` gets `a.2`
    assert data.frame["a.2"].tolist() == frame["b"].tolist()
    assert "renamed duplicate column names: column 2 `a` → `a.2`" in data.notes


def test_duplicate_csv_headers_are_made_unique_the_way_pandas_does(tmp_path):
    rows = "".join(f"{i},n{i},{i * 10},{i * 100},{i * 1000}\n" for i in range(12))
    data = load_dataset(_write(tmp_path / "scores.csv", "score,name,score,score.1, score \n" + rows))
    assert list(data.frame.columns) == ["score", "name", "score.2", "score.1", "score.3"]
    assert data.frame["score.2"].iloc[3] == 30 and data.frame["score.3"].iloc[3] == 3000
    assert data.notes[0] == (
        "renamed duplicate column names: column 3 `score` → `score.2`, column 5 `score` → `score.3`"
    )


def _written(content: str, frame: pd.DataFrame) -> bytes:
    """`frame` written in the format `content` names, as bytes (the file name plays no part)."""
    if content in ("csv", "tsv", "txt"):
        return frame.to_csv(index=False, sep="\t" if content == "tsv" else ",").encode()
    if content in ("parquet", "pq"):
        return frame.to_parquet()
    if content == "feather":
        buffer = io.BytesIO()
        frame.to_feather(buffer)
        return buffer.getvalue()
    if content == "json":
        return frame.to_json(orient="records").encode()
    if content in ("jsonl", "ndjson"):
        return frame.to_json(orient="records", lines=True).encode()
    if content == "xls":
        return _xls_bytes(frame)
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    return buffer.getvalue()


def _compressed(data: bytes, compression: str) -> bytes:
    return {
        "gz": gzip.compress,
        "bz2": bz2.compress,
        "xz": lzma.compress,
        "zst": zstandard.ZstdCompressor().compress,
        "zip": lambda raw: _zipped({"table": raw}),
    }[compression](data)


def _assert_same_table(loaded: pd.DataFrame, frame: pd.DataFrame) -> None:
    assert list(loaded.columns) == list(frame.columns) and len(loaded) == len(frame)
    assert np.allclose(loaded["x"].to_numpy(), frame["x"].to_numpy(), atol=1e-5)
    assert loaded["city"].tolist() == frame["city"].tolist() and loaded["y"].tolist() == frame["y"].tolist()


@pytest.mark.parametrize("extension", formats.EXTENSIONS)
def test_every_supported_extension_loads(tmp_path, extension):
    frame = _rows()
    path = _bytes(tmp_path / f"t.{extension}", _written(extension, frame))
    data = load_dataset(path)
    _assert_same_table(data.frame, frame)
    assert not any("is really" in note for note in data.notes)


@pytest.mark.parametrize("compression", formats.COMPRESSIONS)
@pytest.mark.parametrize("extension", ["csv", "tsv", "jsonl", "json"])
def test_every_compression_of_text_loads(tmp_path, extension, compression):
    frame = _rows()
    raw = _compressed(_written(extension, frame), compression)
    data = load_dataset(_bytes(tmp_path / f"t.{extension}.{compression}", raw))
    _assert_same_table(data.frame, frame)
    assert not any("is really" in note for note in data.notes)


@pytest.mark.parametrize(
    ("name", "content", "compression", "note"),
    [
        ("sales.csv", "xlsx", None, "`sales.csv` is really an Excel workbook; read it as Excel"),
        ("sales.csv", "xls", None, "`sales.csv` is really an old Excel (.xls) workbook; read it as old"),
        ("sales.xls", "xlsx", None, "`sales.xls` is really an Excel workbook; read it as Excel"),
        ("sales.csv", "parquet", None, "`sales.csv` is really a Parquet file; read it as Parquet"),
        ("sales.csv", "feather", None, "`sales.csv` is really a Feather file; read it as Feather"),
        ("sales.csv", "json", None, "`sales.csv` is really JSON; read it as JSON"),
        ("sales.parquet", "csv", None, "`sales.parquet` is really delimited text; read it as delimited text"),
        ("sales.xlsx", "csv", None, "`sales.xlsx` is really delimited text; read it as delimited text"),
        ("sales.json", "csv", None, "`sales.json` is really delimited text; read it as delimited text"),
        ("sales.csv", "csv", "gz", "`sales.csv` is really gzip-compressed delimited text"),
        ("sales.csv", "csv", "bz2", "`sales.csv` is really bzip2-compressed delimited text"),
        ("sales.csv", "csv", "xz", "`sales.csv` is really xz-compressed delimited text"),
        ("sales.csv", "csv", "zst", "`sales.csv` is really zstd-compressed delimited text"),
        ("sales.csv", "csv", "zip", "`sales.csv` is really zip-compressed delimited text"),
        ("sales.csv.gz", "csv", None, "`sales.csv.gz` is really uncompressed delimited text"),
        ("sales.csv.bz2", "csv", "gz", "`sales.csv.bz2` is really gzip-compressed delimited text"),
        ("sales.parquet", "parquet", "gz", "`sales.parquet` is really a gzip-compressed Parquet file"),
    ],
)
def test_the_content_decides_the_format_and_a_note_says_so(tmp_path, name, content, compression, note):
    frame = _rows()
    raw = _written(content, frame)
    data = load_dataset(_bytes(tmp_path / name, _compressed(raw, compression) if compression else raw))
    _assert_same_table(data.frame, frame)
    assert any(n.startswith(note) for n in data.notes), data.notes


def test_a_zip_holds_one_table_besides_mac_metadata(tmp_path):
    table = _rows().to_csv(index=False).encode()
    raw = _zipped({"export/": b"", "export/t.csv": table, "__MACOSX/export/._t.csv": b"x"})
    _assert_same_table(load_dataset(_bytes(tmp_path / "t.csv.zip", raw)).frame, _rows())


def test_utf16_unicode_text_export(tmp_path):
    """Excel's "Unicode text": tab-separated UTF-16 with a byte-order mark (it holds NUL bytes)."""
    path = _bytes(tmp_path / "export.txt", _rows().to_csv(index=False, sep="\t").encode("utf-16"))
    data = load_dataset(path)
    _assert_same_table(data.frame, _rows())
    assert "read the file as UTF-16" in data.notes


def _ragged(rows: int, bad_lines: set[int]) -> str:
    """A header, record 0 whose quoted name spans lines 2-3, then a line per record; the lines in `bad_lines`
    (numbered as an editor shows them) get a 4th field."""
    lines = ["id,name,score", '0,"two\nlines",0']
    for i in range(1, rows):
        lines.append(f"{i},n{i},{i}" + (",oops" if i + 3 in bad_lines else ""))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_a_few_lines_with_too_many_fields_are_skipped_and_named(tmp_path, suffix):
    text = _ragged(300, {5, 120})
    path = tmp_path / f"ragged{suffix}"
    path.write_bytes(gzip.compress(text.encode()) if suffix == ".csv.gz" else text.encode())
    data = load_dataset(path)
    assert len(data.frame) == 298
    assert "skipped 2 lines with more than 3 fields (lines 5, 120)" in data.notes
    kept = data.frame["id"].tolist()
    assert 117 not in kept and kept[:4] == [0, 1, 3, 4]  # line 5 holds id 2, line 120 id 117


def test_one_ragged_line_is_skipped_even_in_a_small_file(tmp_path):
    data = load_dataset(_write(tmp_path / "small.csv", _ragged(40, {7})))
    assert len(data.frame) == 39 and "skipped 1 line with more than 3 fields (line 7)" in data.notes


def test_many_lines_with_too_many_fields_are_refused_naming_them(tmp_path):
    path = _write(tmp_path / "ragged.csv", _ragged(300, {5, 9, 30, 31, 32, 33, 34}))
    with pytest.raises(DataError) as caught:
        load_dataset(path)
    message = str(caught.value)
    assert "has 7 lines with more fields than the 3 of its header (lines 5, 9, 30, 31, 32, …)" in message
    assert message.startswith("`ragged.csv`") and "7 of its 300 rows, more than the 1%" in message
    assert "Check the delimiter (',')" in message


def test_infinities_are_missing_values_with_a_note(tmp_path):
    values = ["inf", "-inf", "Infinity", "1e999", "-Infinity"] + [str(i) for i in range(7)]
    rows = [f"{v},{i},{'1e39' if i == 0 else i}" for i, v in enumerate(values)]
    data = load_dataset(_write(tmp_path / "inf.csv", "a,b,huge\n" + "\n".join(rows) + "\n"))
    frame = data.frame
    assert frame["a"].isna().sum() == 5 and np.isfinite(frame["a"].dropna()).all()
    assert frame["huge"].iloc[0] == 1e39 and np.isfinite(frame["huge"]).all()  # float32 would overflow
    assert "treated 5 infinite values (inf, -inf) as missing in `a`" in data.notes


def test_infinities_in_parquet_are_missing_too(tmp_path):
    frame = _rows()
    frame["x"] = frame["x"].astype("float64")
    frame.loc[[2, 7], "x"] = [np.inf, -np.inf]
    frame.to_parquet(tmp_path / "t.parquet")
    data = load_dataset(tmp_path / "t.parquet")
    assert data.frame["x"].isna().sum() == 2
    assert "treated 2 infinite values (inf, -inf) as missing in `x`" in data.notes


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


def test_cells_are_the_text_as_written_row_for_row(tmp_path):
    lines = ["code,amount,note,score,score", "007,1,?,1,2", '008,2.50,"a, b",3,4', ",,,,", "009,,pad,5,6,7"]
    lines += [f"{i:03d},{i},n,{i},{i}" for i in range(10, 110)] + ["110,1e999,inf,1,1"]
    dataset, cells = load_with_cells(_write(tmp_path / "t.csv", "\n".join(lines) + "\n"))
    assert list(cells) == list(dataset.frame) == ["code", "amount", "note", "score", "score.1"]
    assert len(cells) == len(dataset.frame) == 103  # the empty row and the line with 6 fields are in neither
    assert cells.iloc[0].tolist() == ["007", "1", "?", "1", "2"]
    assert cells.iloc[1].tolist() == ["008", "2.50", "a, b", "3", "4"]
    assert cells.iloc[-1].tolist() == ["110", "1e999", "inf", "1", "1"]
    amounts = dataset.frame["amount"]  # the model's view: numbers, and inf as missing
    assert amounts.iloc[1] == pytest.approx(2.5) and np.isnan(amounts.iloc[-1])
    assert cells["code"].iloc[2] == "010" and dataset.frame["code"].iloc[2] == "010"

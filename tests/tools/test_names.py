"""One column matcher for the planner and resolve_column: normalized names, containment, close spellings."""

import subprocess
import sys
from pathlib import Path

import pytest

from tools.names import columns_like, normalize

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["Sale Price", "Lot Area", "Garage Area", "survived", "home.dest", "Status"]


def test_normalize_ignores_case_spaces_and_punctuation() -> None:
    assert normalize("Sale Price") == normalize("sale_price") == normalize("SalePrice") == "saleprice"
    assert normalize("home.dest") == "homedest"


def test_every_column_containing_the_name_is_a_candidate() -> None:
    assert columns_like("area", COLUMNS) == ["Lot Area", "Garage Area"]
    assert columns_like("survive", COLUMNS) == ["survived"]


@pytest.mark.parametrize(("name", "expected"), [
    ("survivd", ["survived"]), ("Staus", ["Status"]), ("sale prise", ["Sale Price"]),
    ("stat", ["Status"]),  # contained
    ("zzz", []), ("sex", []), ("ab", []),  # nothing close enough; too short to say
])
def test_close_spellings_above_one_cut_off(name: str, expected: list[str]) -> None:
    assert columns_like(name, COLUMNS) == expected


def test_resolve_column_suggests_what_the_planner_would_pick() -> None:
    from tools.errors import ColumnError
    from tools.profile import resolve_column

    assert resolve_column(COLUMNS, "HOME dest") == "home.dest"
    with pytest.raises(ColumnError, match="Did you mean `Status`"):
        resolve_column(COLUMNS, "Staus")
    with pytest.raises(ColumnError, match="Did you mean `Lot Area` or `Garage Area`"):
        resolve_column(COLUMNS, "area")


def test_importing_the_matcher_imports_no_pandas() -> None:
    probe = "import sys, tools.names; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

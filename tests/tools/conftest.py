"""Fixtures of the toolbox tests."""

import pandas as pd
import pytest

from tests.conftest import SAMPLES
from tools.loading import load_dataset


@pytest.fixture(scope="module")
def titanic() -> pd.DataFrame:
    """The cleaned titanic.csv frame, loaded once per test module."""
    return load_dataset(SAMPLES / "titanic.csv").frame

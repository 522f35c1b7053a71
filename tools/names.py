"""Column names matched the way people type them (case, spaces, punctuation, typos); cheap: no pandas."""

import re

from rapidfuzz import fuzz, process

CLOSE_SPELLING = 80  # fuzz.ratio (0–100): "survivd" (93) and "Staus" (91) pass, "sex" for "set" (67) does not


def normalize(name: str) -> str:
    """A column name in lower-case letters and digits only ("Sale Price" == "SalePrice" == "sale_price")."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def columns_like(name: str, columns: list[str]) -> list[str]:
    """Columns whose name contains `name`, or failing that the three spelt closest to it, best first."""
    wanted = normalize(name)
    if len(wanted) < 3:
        return []
    containing = [c for c in columns if wanted in normalize(c)]
    if containing:
        return containing
    by_normal = {normalize(c): c for c in columns}
    close = process.extract(wanted, list(by_normal), scorer=fuzz.ratio, score_cutoff=CLOSE_SPELLING, limit=3)
    return [by_normal[choice] for choice, _score, _index in close]

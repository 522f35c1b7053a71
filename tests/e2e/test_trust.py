"""Results a data scientist can trust, through the Agent the CLI and UI use: a too-good score is questioned
and retrained without its columns in the words the reply proposes; no file gives an "internal error"."""

import gzip
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graph.agent import Agent


def two_column_leak(path: Path, rows: int = 1_500) -> Path:
    """A deal is won exactly when the offer beats the counter-offer: each alone is only a fair hint, so no
    single-column leak check can see it, but a linear model reads the outcome off the pair."""
    rng = np.random.default_rng(7)
    offer, counter = rng.uniform(0, 100, rows), rng.uniform(0, 100, rows)
    pd.DataFrame({"region": rng.choice(["north", "south", "east"], rows), "visits": rng.poisson(4, rows),
                  "offer_price": offer.round(2), "counter_price": counter.round(2),
                  "deal_won": (offer > counter).astype(int)}).to_csv(path, index=False)
    return path


def test_a_too_good_score_is_questioned_and_retrained_without_the_named_columns(home, tmp_path):
    agent = Agent(home=home, accel="none")
    data = two_column_leak(tmp_path / "deals.csv")
    first = agent.ask(f"load {data}, the target is deal_won, train logistic regression")
    assert first["error"] is None
    assert first["experiments"][0]["metrics"]["roc_auc"] >= 0.99
    assert "Too good to be true?" in first["reply"]
    words = re.search(r"say `(train again without [^`]+)`", first["reply"]).group(1)
    assert set(re.split(r",\s*", words.removeprefix("train again without "))) == {"offer_price",
                                                                                 "counter_price"}

    again = agent.ask(words, thread_id=first["thread_id"])
    assert [s["action"] for s in again["steps"]] == ["exclude", "train"]
    assert again["dataset"] and again["error"] is None
    retrained = again["experiments"]
    assert retrained and all(r["dataset"]["excluded"] == ["offer_price", "counter_price"] for r in retrained)
    assert max(r["metrics"]["roc_auc"] for r in retrained) < 0.7  # what is left carries no signal
    assert "Too good to be true?" not in again["reply"]


def ugly_files(folder: Path) -> dict[str, Path]:
    """Files users really have, each named for what is wrong with it."""
    rng = np.random.default_rng(0)
    rows = 60
    frame = pd.DataFrame({"x": rng.normal(size=rows).round(3), "k": rng.choice(["a", "b"], rows),
                          "y": rng.choice(["yes", "no"], rows)})
    files: dict[str, Path] = {}

    def text(name: str, content: str) -> None:
        files[name] = folder / name
        files[name].write_text(content, encoding="utf-8")

    csv = frame.to_csv(index=False)
    text("duplicate_headers.csv", csv.replace("x,k,y", "x,x,y", 1))
    text("ragged.csv", csv + "1.0,a,yes,EXTRA\n")
    text("infinities.csv", frame.assign(x=np.where(np.arange(rows) % 7 == 0, np.inf, frame.x) * np.where(
        np.arange(rows) % 2, 1, -1)).to_csv(index=False))
    text("semicolons_decimal_commas.csv", frame.assign(x=frame.x.astype(str).str.replace(".", ","))
         .to_csv(index=False, sep=";"))
    text("header_only.csv", "x,k,y\n")
    text("one_row.csv", "x,k,y\n1,a,yes\n")
    text("empty.csv", "")
    text("all_missing_target.csv", frame.assign(y="").to_csv(index=False))
    text("constant_target.csv", frame.assign(y="yes").to_csv(index=False))
    text("target_is_a_row_number.csv", frame.assign(y=range(rows)).to_csv(index=False))
    text("many_classes.csv", frame.assign(y=[f"class {i}" for i in range(rows)]).to_csv(index=False))
    text("only_the_target.csv", frame[["y"]].to_csv(index=False))
    text("wide.csv", pd.DataFrame(rng.normal(size=(12, 300))).add_prefix("c").assign(
        y=["yes", "no"] * 6).to_csv(index=False))
    files["binary_junk.csv"] = folder / "binary_junk.csv"
    files["binary_junk.csv"].write_bytes(bytes(rng.integers(0, 256, 3000, dtype=np.uint8)))
    files["gzip_named_csv.csv"] = folder / "gzip_named_csv.csv"
    files["gzip_named_csv.csv"].write_bytes(gzip.compress(csv.encode()))
    files["parquet_named_csv.csv"] = folder / "parquet_named_csv.csv"
    frame.to_parquet(files["parquet_named_csv.csv"])
    files["excel_named_csv.csv"] = folder / "excel_named_csv.csv"
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    files["excel_named_csv.csv"].write_bytes(buffer.getvalue())
    files["word_document.docx"] = folder / "word_document.docx"
    files["word_document.docx"].write_bytes(b"PK\x03\x04 not a table")
    files["missing.csv"] = folder / "missing.csv"
    files["a_folder.csv"] = folder / "a_folder.csv"
    files["a_folder.csv"].mkdir()
    return files


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return ugly_files(tmp_path_factory.mktemp("ugly"))


@pytest.fixture(scope="module")
def agent(tmp_path_factory) -> Agent:
    return Agent(home=tmp_path_factory.mktemp("home"), accel="none")


UGLY = ("duplicate_headers.csv", "ragged.csv", "infinities.csv", "semicolons_decimal_commas.csv",
        "header_only.csv", "one_row.csv", "empty.csv", "all_missing_target.csv", "constant_target.csv",
        "target_is_a_row_number.csv", "many_classes.csv", "only_the_target.csv", "wide.csv",
        "binary_junk.csv",
        "gzip_named_csv.csv", "parquet_named_csv.csv", "excel_named_csv.csv", "word_document.docx",
        "missing.csv", "a_folder.csv")


def test_the_corpus_is_complete(corpus):
    assert set(corpus) == set(UGLY)


@pytest.mark.parametrize("name", UGLY)
def test_no_file_ever_gets_an_internal_error(agent, corpus, name):
    result = agent.ask(f'load "{corpus[name]}", the target is y, describe it and train logistic regression')
    reply = result["reply"]
    assert "internal error" not in reply.lower() and "Traceback" not in reply, reply
    assert reply.strip()
    failed = [s for s in result["steps"] if s["status"] == "failed"]
    assert all(s["error"] and "unexpected problem" not in s["error"] for s in failed), failed


def test_predictions_of_an_svc_repeat_the_cells_and_give_probabilities(home, tmp_path):
    titanic = Path(__file__).resolve().parents[2] / "samples" / "titanic.csv"
    new = tmp_path / "new_passengers.csv"
    head = titanic.read_text(encoding="utf-8").splitlines(keepends=True)[:21]
    new.write_text("".join(head), encoding="utf-8")
    agent = Agent(home=home, accel="none")
    trained = agent.ask(f"load {titanic}, the target is survived, train svc")
    predicted = agent.ask(f"predict on {new}", thread_id=trained["thread_id"])
    assert predicted["error"] is None
    written = pd.read_csv(predicted["artifacts"]["predictions"], dtype=str, keep_default_na=False)
    given = pd.read_csv(new, dtype=str, keep_default_na=False)
    assert list(written.columns) == [*given.columns, "prediction", "proba_0", "proba_1"]
    assert written[given.columns].equals(given)  # the cells exactly as written ("?", "1", "29")
    proba = written[["proba_0", "proba_1"]].astype(float)
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-5) and set(written["prediction"]) <= {"0", "1"}

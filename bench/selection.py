"""Model selection by holdout against cross-validation: how close each way's pick is to the truly best model.

    python -m bench.selection [--quick] [--seeds N] [--out DIR]

For each data size n and seed, n rows of a sample dataset are the user's table and up to TRUTH_ROWS of the
remaining rows are an independent truth set. dsgraph's default model set is trained on the table's fixed
split; each model's true score is its saved pipeline scored on the truth set. The model picked by the test
split and the one picked by cross-validation on the training rows are compared with the truly best one
(regret = true best − true score of the pick). Writes `bench/results/selection-<date>[-quick].md` and `.json`.
"""

import argparse
import datetime
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SIZES = (300, 1_000, 3_000, 10_000, 30_000)
QUICK_SIZES = (300, 1_000, 3_000)
SEEDS = 8
QUICK_SEEDS = 3
TRUTH_ROWS = 20_000
CV_FOLDS_ABOVE = 5  # dsgraph skips CV at or above CV_BELOW_ROWS training rows; measured there with 5 folds
NOISE_MODEL = "hist_gradient_boosting"
WAYS = ("test", "cv")
DATASETS = {  # name: (file, target, task, metric)
    "adult": ("samples/adult.csv.gz", "income", "classification", "accuracy"),
    "diamonds": ("samples/diamonds.csv.gz", "price", "regression", "r2"),
}
RESULTS = Path(__file__).parent / "results"


def log(message: str) -> None:
    """Progress on stderr (stdout stays free)."""
    print(message, file=sys.stderr, flush=True)


def draw(frame, n: int, seed: int):
    """The user's table (n seeded rows, in file order) and the truth set (up to TRUTH_ROWS other rows)."""
    order = np.random.default_rng(seed).permutation(len(frame))
    return frame.iloc[np.sort(order[:n])], frame.iloc[order[n:n + TRUTH_ROWS]]


def cv_folds(train_rows: int) -> int | None:
    """None: dsgraph's own selection CV (below its threshold); else CV_FOLDS_ABOVE folds, measured anyway."""
    from tools import training

    return None if training.selection_cv(train_rows) else CV_FOLDS_ABOVE


def fit_default_set(table, target: str, task: str, out_dir: str) -> list[dict[str, Any]]:
    """dsgraph's default model set for the table's size, each trained on its fixed split (test + CV)."""
    from tools import models, training

    trainer = training.Trainer(table, target, task)
    folds = cv_folds(len(trainer.data.y_train))
    chosen = models.default_models(task, len(table), table.shape[1] - 1)
    return [trainer.train(key, out_dir=out_dir, record_id=key, plots=False, cv_folds=folds)
            for key, _ in chosen]


def true_score(record: dict[str, Any], truth, target: str, task: str, metric: str) -> float:
    """The saved pipeline's `metric` on the truth set (class labels as text, as the trainer reads adult's)."""
    import joblib

    from tools.metrics import score

    pipeline = joblib.load(record["artifact"])
    y = truth[target].to_numpy(dtype=float) if task == "regression" else truth[target].astype(str).to_numpy()
    predicted = pipeline.predict(truth[list(pipeline.feature_names_in_)])
    return score(task, y, predicted)[metric]


def pick(scores: dict[str, float | None], metric: str) -> str:
    """The model with the best score, as `experiments.best` chooses (its direction; ties keep the first)."""
    from tools.metrics import is_better

    chosen = None
    for model, value in scores.items():
        if chosen is None or is_better(metric, value, scores[chosen]):
            chosen = model
    return chosen


def trial(frame, dataset: str, n: int, seed: int) -> dict[str, Any]:
    """One user's table: every model's test, CV and true score, each way's pick and its regret."""
    from tools import experiments

    _, target, task, metric = DATASETS[dataset]
    table, truth = draw(frame, n, seed)
    with tempfile.TemporaryDirectory() as out:
        records = fit_default_set(table, target, task, out)
        true = {r["model"]: true_score(r, truth, target, task, metric) for r in records}
    by_way = {way: {r["model"]: experiments.value(r, metric, way) for r in records} for way in WAYS}
    oracle = pick(true, metric)
    picks = {way: pick(scores, metric) for way, scores in by_way.items()}
    cv = records[0]["cv"]
    return {"dataset": dataset, "n": n, "seed": seed, "n_train": records[0]["n_train"],
            "n_test": records[0]["n_test"], "n_truth": len(truth),
            "cv_protocol": [cv["folds"], cv["repeats"]],
            "scores": {"test": by_way["test"], "cv": by_way["cv"], "true": true}, "oracle": oracle,
            "picks": picks, "regret": {way: true[oracle] - true[model] for way, model in picks.items()}}


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and its standard error (NaN error with one value)."""
    array = np.asarray(values, dtype=float)
    se = array.std(ddof=1) / math.sqrt(len(array)) if len(array) > 1 else math.nan
    return float(array.mean()), float(se)


def sd(values: list[float | None]) -> float:
    """Sample standard deviation of the values present (NaN with fewer than two)."""
    array = np.asarray([v for v in values if v is not None], dtype=float)
    return float(array.std(ddof=1)) if len(array) > 1 else math.nan


def summarise(trials: list[dict[str, Any]]) -> dict[str, Any]:
    """Regret and hit rate of each way, their paired difference, and the HGB model's score noise."""
    first = trials[0]
    row: dict[str, Any] = {key: first[key] for key in ("dataset", "n", "n_train", "n_test", "cv_protocol")}
    row |= {"seeds": len(trials), "n_truth_min": min(t["n_truth"] for t in trials)}
    for way in WAYS:
        row[f"regret_{way}"], row[f"regret_{way}_se"] = mean_se([t["regret"][way] for t in trials])
        row[f"hits_{way}"] = sum(t["picks"][way] == t["oracle"] for t in trials)
    paired = [t["regret"]["test"] - t["regret"]["cv"] for t in trials]
    row["difference"], row["difference_se"] = mean_se(paired)
    for way in WAYS:
        row[f"hgb_{way}_sd"] = sd([t["scores"][way].get(NOISE_MODEL) for t in trials])
        row[f"hgb_{way}_error_sd"] = sd([_error(t, way) for t in trials])
    models = list(trials[0]["scores"]["true"])
    row["true_mean"] = {m: float(np.mean([t["scores"]["true"][m] for t in trials])) for m in models}
    row["oracles"] = {m: sum(t["oracle"] == m for t in trials) for m in models}
    row["cv_bias"] = {m: float(np.mean([t["scores"]["cv"][m] - t["scores"]["true"][m] for t in trials]))
                      for m in models}
    row["agree"] = sum(t["picks"]["test"] == t["picks"]["cv"] for t in trials)
    row["verdict"] = verdict(row["difference"], row["difference_se"])
    return row


def _error(trial: dict[str, Any], way: str) -> float | None:
    """How far the HGB model's `way` estimate is from its true score (None without it)."""
    estimate = trial["scores"][way].get(NOISE_MODEL)
    return None if estimate is None else estimate - trial["scores"]["true"][NOISE_MODEL]


def verdict(difference: float, se: float) -> str:
    """Which way picks measurably better models: its regret is lower by more than the standard error."""
    if math.isnan(se) or abs(difference) <= se:
        return "no measurable difference"
    return "CV better" if difference > 0 else "holdout better"


def conclusion(rows: list[dict[str, Any]], trials: list[dict[str, Any]], threshold: int) -> list[str]:
    """Where CV ranking picks measurably better models, how much chance explains, and the threshold."""
    return [*_verdicts(rows), _chance(rows), _pooled(trials, threshold), _agreement(rows, threshold),
            *_truth_notes(rows)]


def _verdicts(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for dataset in DATASETS:
        own = [r for r in rows if r["dataset"] == dataset]
        better = [r["n"] for r in own if r["verdict"] == "CV better"]
        worse = [r["n"] for r in own if r["verdict"] == "holdout better"]
        text = (f"{dataset}: CV ranking picks measurably better models at n = {_sizes(better)}"
                if better else f"{dataset}: CV ranking is measurably better at no size")
        text += f"; the holdout is measurably better at n = {_sizes(worse)}" if worse else ""
        lines.append(text + ".")
    return lines


def _chance(rows: list[dict[str, Any]]) -> str:
    varied = [r for r in rows if r["difference_se"] > 0]
    measurable = sum(r["verdict"] != "no measurable difference" for r in varied)
    return (f"|Δ| exceeds its standard error in {measurable} of the {len(varied)} cells where the two ways "
            f"ever picked differently; with no real difference about a third of them ({len(varied) / 3:.1f}) "
            "would by chance, so a single cell is weak evidence.")


def _pooled(trials: list[dict[str, Any]], threshold: int) -> str:
    below = [t for t in trials if t["n_train"] < threshold]
    mean, se = mean_se([t["regret"]["test"] - t["regret"]["cv"] for t in below])
    return (f"Pooled over every trial where dsgraph ranks by CV ({len(below)} trials, both datasets, "
            f"n ≤ {max(t['n'] for t in below):,}): Δ = {mean:+.4f} ± {se:.4f} ({verdict(mean, se)}).")


def _agreement(rows: list[dict[str, Any]], threshold: int) -> str:
    sizes = sorted({r["n"] for r in rows})
    agreeing = [n for n in sizes if all(r["agree"] == r["seeds"] for r in rows if r["n"] >= n)]
    train = {r["n"]: r["n_train"] for r in rows}
    text = (f"The threshold: CV below {threshold:,} training rows, i.e. at n ≤ "
            f"{_sizes([n for n in sizes if train[n] < threshold][-1:])} of the sizes measured. ")
    if not agreeing:
        return text + "The two ways picked differently in some seed at every size up to the largest."
    first = agreeing[0]
    text += (f"At n ≥ {first:,} ({train[first]:,}+ training rows) the test split and CV picked the same "
             "model in every seed of both datasets: there CV changes no choice and only costs fits. ")
    below = [train[n] for n in sizes if n < first]
    unmeasured = f" (nothing between {below[-1]:,} and {train[first]:,} was measured)" if below else ""
    if train[first] < threshold:
        return text + (f"So {threshold:,} is on the safe side: these data would allow a threshold as low as "
                       f"about {train[first]:,} training rows{unmeasured} with no change in picks.")
    return text + f"So CV still changed picks up to the threshold ({threshold:,} training rows)."


def _truth_notes(rows: list[dict[str, Any]]) -> list[str]:
    return [f"{r['dataset']} n = {r['n']:,}: the truth set is only {r['n_truth_min']:,} rows (the rest of "
            "the file), so true scores and the oracle are noisier there." for r in rows
            if r["n_truth_min"] < TRUTH_ROWS]


def _sizes(sizes: list[int]) -> str:
    return ", ".join(f"{n:,}" for n in sorted(set(sizes))) or "–"


def run(sizes: tuple[int, ...], seeds: int) -> list[dict[str, Any]]:
    """Every (dataset, size, seed) trial, with progress on stderr."""
    from tools.loading import load_dataset

    trials = []
    for dataset, (path, *_) in DATASETS.items():
        frame = load_dataset(path).frame
        for n in sizes:
            for seed in range(seeds):
                started = time.monotonic()
                result = trial(frame, dataset, n, seed)
                trials.append(result)
                log(f"{dataset} n={n:,} seed={seed}: oracle {result['oracle']}, picks {result['picks']}, "
                    f"regret {_rounded(result['regret'])} ({time.monotonic() - started:.0f} s)")
    return trials


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 4) for key, value in values.items()}


def markdown(result: dict[str, Any]) -> str:
    """The report page: how it was run, the table, the HGB noise, the conclusion."""
    machine = result["machine"]
    mode = " quick" if result["quick"] else ""
    lines = [f"# Model selection: holdout vs cross-validation ({result['date']}{mode})", "",
             f"`{result['command']}`", "",
             f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
             f"{machine['gpu']}; shared and busy, so no timings are reported. Accelerator: "
             f"{result['accelerator']}.", "", *_method(result), "", *_table(result["summary"]), "",
             "## Conclusion", "", *[f"- {line}" for line in result["conclusion"]], ""]
    return "\n".join(lines)


def _method(result: dict[str, Any]) -> list[str]:
    return [
        "Per dataset, size n and seed: n seeded rows are the user's table, up to "
        f"{TRUTH_ROWS:,} other rows the truth set. dsgraph's default model set for n rows is trained on the "
        "table's fixed 80/20 split (`tools.training.Trainer`); *test* ranks by the test split, *CV* by the "
        "cross-validated mean on the training rows (dsgraph's own protocol below its threshold, "
        f"{CV_FOLDS_ABOVE}-fold above it, where dsgraph would not cross-validate). *True* = the saved "
        "pipeline scored on the truth set; the oracle is the model with the best true score. Regret = "
        "true(oracle) − true(pick), in metric units (accuracy for adult, R² for diamonds); ± is the "
        "standard error over seeds. *Δ* = regret(test) − regret(CV), paired by seed: positive means CV "
        "picked better. *hits* = how often the pick was the oracle. *HGB sd* = standard deviation over "
        "seeds of histogram boosting's test-split score and of its CV mean (the noise of one estimate at "
        "that size, plus the table-to-table variation both share).",
    ]


def _table(rows: list[dict[str, Any]]) -> list[str]:
    header = ("| dataset | n | train / test / truth rows | CV | seeds | regret test | regret CV "
              "| Δ (test − CV) | hits test | hits CV | HGB sd test | HGB sd CV | verdict |")
    lines = [header, "| --- | ---: | ---: | --- | ---: " + "| ---: " * 7 + "| --- |"]
    for r in rows:
        folds, repeats = r["cv_protocol"]
        lines.append(
            f"| {r['dataset']} | {r['n']:,} | {r['n_train']:,} / {r['n_test']:,} / {r['n_truth_min']:,} | "
            f"{folds}-fold{f' ×{repeats}' if repeats > 1 else ''} | {r['seeds']} | "
            f"{_pm(r['regret_test'], r['regret_test_se'])} | {_pm(r['regret_cv'], r['regret_cv_se'])} | "
            f"{_pm(r['difference'], r['difference_se'])} | {r['hits_test']}/{r['seeds']} | "
            f"{r['hits_cv']}/{r['seeds']} | {r['hgb_test_sd']:.4f} | {r['hgb_cv_sd']:.4f} | {r['verdict']} |")
    lines += ["", "Per cell: mean true score of each model (how often it was the oracle); mean CV − true "
              "score of each model (CV fits on 4/5 of the training rows); standard deviation of HGB's "
              "estimate − true score (the estimate's own noise, without the table-to-table variation):", ""]
    for r in rows:
        scores = ", ".join(f"{m} {v:.4f} ({r['oracles'][m]})" for m, v in r["true_mean"].items())
        bias = ", ".join(f"{m} {v:+.4f}" for m, v in r["cv_bias"].items())
        lines.append(f"- {r['dataset']} n = {r['n']:,}: {scores}. CV − true: {bias}. HGB error sd: test "
                     f"{r['hgb_test_error_sd']:.4f}, CV {r['hgb_cv_error_sd']:.4f}.")
    return lines


def _pm(mean: float, se: float) -> str:
    return f"{mean:.4f} ± {se:.4f}"


def write(result: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write `selection-<date>[-quick].md` and `.json` into `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"selection-{result['date']}{'-quick' if result['quick'] else ''}"
    paths = {"md": out_dir / f"{stem}.md", "json": out_dir / f"{stem}.json"}
    paths["json"].write_text(json.dumps(result, indent=2, default=str))
    paths["md"].write_text(markdown(result))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}, {QUICK_SEEDS} seeds")
    parser.add_argument("--seeds", type=int, help=f"seeds per size (default {SEEDS}; quick {QUICK_SEEDS})")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    from tools import accel

    accelerator = accel.activate("auto")
    from bench.measure import machine
    from tools import training

    sizes, seeds = (QUICK_SIZES, QUICK_SEEDS) if args.quick else (SIZES, SEEDS)
    seeds = args.seeds or seeds
    started = time.monotonic()
    trials = run(sizes, seeds)
    summary = [summarise([t for t in trials if t["dataset"] == d and t["n"] == n])
               for d in DATASETS for n in sizes]
    result = {
        "date": datetime.date.today().isoformat(), "quick": args.quick,
        "command": " ".join(["python -m bench.selection", *sys.argv[1:]]),
        "machine": machine() | {"gpu": "no GPU" if accelerator["device"] == "cpu" else "GPU"},
        "accelerator": f"{accelerator['accelerator']} ({accelerator['reason']})",
        "cv_below_rows": training.CV_BELOW_ROWS, "truth_rows": TRUTH_ROWS, "sizes": list(sizes),
        "seeds": seeds, "run_seconds": round(time.monotonic() - started),
        "summary": summary, "conclusion": conclusion(summary, trials, training.CV_BELOW_ROWS),
        "trials": trials,
    }
    paths = write(result, args.out)
    log(f"wrote {paths['md']} and {paths['json']}")


if __name__ == "__main__":
    main()

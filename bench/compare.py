"""Side-by-side stage rows from the reference's and dsgraph's job results."""

from typing import Any

from bench.ours import time_to_quality

METRIC = {"classification": "f1", "regression": "r2"}
STAGE_KEYS = ("name", "ours_s", "ref_s", "ratio", "ours_metric", "ref_metric", "metric", "peak_rss_mb")


def complete(row: dict[str, Any]) -> dict[str, Any]:
    """The row with every key of the JSON contract present (None where a side has no number)."""
    return {key: row.get(key) for key in STAGE_KEYS} | row


def model_sets(task: str, ref: dict[str, Any], ours: dict[str, Any], label: str) -> dict[str, Any]:
    """One model-set stage: end-to-end seconds and the best test metric of each side."""
    metric = METRIC[task]
    turn = ours[task]
    row = {"name": label, "ours_s": turn["seconds"], "metric": metric,
           "ours_metric": max(e["metrics"][metric] for e in turn["experiments"]),
           "peak_rss_mb": turn["peak_rss_mb"], "ours_models": [e["model"] for e in turn["experiments"]]}
    return _ratio(row | _reference_side(ref, metric, _best_of_set(metric)))


def tuning(ref: dict[str, Any], ours: dict[str, Any], label: str) -> dict[str, Any]:
    """Time to quality: dsgraph's seconds until a trial reaches the reference's best CV score."""
    turn = ours["tuning"]
    tuned = turn["experiments"][-1]
    completed = [t["value"] for t in turn["trials"] if t["state"] == "COMPLETE"]
    row = {"name": label, "metric": "f1", "ours_metric": tuned["metrics"]["f1"],
           "peak_rss_mb": turn["peak_rss_mb"], "ours_model": ours["tuned_model"],
           "ours_total_s": turn["seconds"], "ours_best_value": max(completed, default=None)}
    if "error" in ref:
        return _ratio(row | {"ours_s": turn["seconds"]} | _reference_side(ref, "f1", None))
    reached = time_to_quality(turn["trials"], ref["best_cv"])
    row |= {"ours_s": reached if reached is not None else turn["seconds"], "reached": reached is not None,
            "ref_model": ref["model"], "ref_best_cv": ref["best_cv"], "ref_best_at_s": ref["best_at_s"],
            "ratio_total": ref["seconds"] / turn["seconds"]}
    row = row | _reference_side(ref, "f1", lambda r: (r["seconds"], r["metrics"]["f1"]))
    if reached is None:
        row["note"] = (f"dsgraph's trials never reached the reference's best CV accuracy "
                       f"{ref['best_cv']:.4f}; its whole tuning turn is counted. " + row["note"])
    return _ratio(row)


def all_columns(ref: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """The reference given every column (dense one-hot of names and tickets) against dsgraph's request."""
    turn = ours["classification"]
    row = {"name": "classification, all columns", "ours_s": turn["seconds"], "metric": "f1",
           "ours_metric": max(e["metrics"]["f1"] for e in turn["experiments"]),
           "peak_rss_mb": turn["peak_rss_mb"], "ref_status": ref.get("status", "failed")}
    if ref.get("status") == "ran":
        return _ratio(row | _reference_side(ref, "f1", _best_of_set("f1")))
    return row | {"ref_s": None, "ratio": None, "ref_metric": None,
                  "ref_peak_rss_mb": ref.get("process_peak_rss_mb"), "extrapolated": False,
                  "note": ref.get("note") or ref.get("error")}


def reference_only(name: str, ref: dict[str, Any], metric: str, error: str) -> dict[str, Any]:
    """A stage whose dsgraph side failed: the reference's numbers and dsgraph's error."""
    pick = _best_of_set(metric) if "models" in ref else (lambda r: (r["seconds"], r["metrics"][metric]))
    row = {"name": name, "ours_s": None, "ours_metric": None, "metric": metric, "ratio": None}
    side = _reference_side(ref, metric, pick)
    return row | side | {"note": f"dsgraph failed: {error}. " + side["note"]}


def models(stage: str, side: dict[str, Any], ours: bool) -> list[dict[str, Any]]:
    """Per-model rows (seconds and test metrics) of one side's stage, for the report's detail tables."""
    if ours:
        return [{"stage": stage, "model": e["model"], "seconds": e["seconds"], "metrics": e["metrics"]}
                for e in side["experiments"]]
    return [{"stage": stage, "model": m["model"], "seconds": m["seconds"], "metrics": m["metrics"],
             "extrapolated": m["extrapolated"]} for m in side.get("models", [])]


def _best_of_set(metric: str):
    """Picks (seconds, best test `metric`) from a reference model-set result."""
    return lambda r: (r["seconds"], max(m["metrics"][metric] for m in r["models"]))


def _reference_side(ref: dict[str, Any], metric: str, pick) -> dict[str, Any]:
    """The reference's seconds, metric, memory, extrapolation flag and notes (or its failure)."""
    if "error" in ref:
        return {"ref_s": None, "ratio": None, "ref_metric": None, "extrapolated": False, "note": ref["error"]}
    seconds, value = pick(ref)
    notes = [f"{m['model']}: {m['note']}" for m in ref.get("models", []) if m.get("note")]
    if ref.get("note"):
        notes.insert(0, ref["note"])
    return {"ref_s": seconds, "ref_metric": value, "ref_peak_rss_mb": ref.get("process_peak_rss_mb"),
            "extrapolated": bool(ref.get("extrapolated")), "note": "; ".join(notes), "ref_accelerator":
            (ref.get("accelerator") or {}).get("accelerator", "none")}


def _ratio(row: dict[str, Any]) -> dict[str, Any]:
    """Reference seconds over dsgraph seconds (None when either is missing)."""
    ok = row.get("ref_s") and row.get("ours_s")
    return row | {"ratio": row["ref_s"] / row["ours_s"] if ok else None}


def scale(result: dict[str, Any]) -> dict[str, Any]:
    """The scale run's row: dsgraph only (the reference has no such run), time and peak memory."""
    if "error" in result:
        return {"name": "scale run", "ours_s": None, "ref_s": None, "ratio": None, "note": result["error"]}
    turn = result["classification"]
    return {"name": f"scale: {result['rows']:,} rows, describe + classification", "ours_s": result["seconds"],
            "ref_s": None, "ratio": None, "metric": "f1",
            "ours_metric": max(e["metrics"]["f1"] for e in turn["experiments"]),
            "peak_rss_mb": result["process_peak_rss_mb"],
            "note": f"file written in 1M-row chunks in {result['generate_s']:.0f} s (not counted); peak "
                    f"memory {result['process_peak_rss_mb'] / 1024:.1f} GiB, generation included"}

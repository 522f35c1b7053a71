"""The bench's report: one Markdown page, the JSON it is made from, and one PNG chart of the stage times."""

import json
from pathlib import Path
from typing import Any

FLOORS = {"classification": 10.0, "regression": 10.0, "tuning": 20.0}
QUALITY_SLACK = 0.005
OVERHEAD_MS_MAX = 50.0
CHECKPOINT_BYTES_MAX = 64 * 1024
STARTUP_S_MAX = 3.0


def write(result: dict[str, Any], out_dir: Path, stem: str | None = None) -> dict[str, Path]:
    """Write `<stem>.md`, `<stem>.json` and `<stem>.png` into `out_dir` (stem: the result's date)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = stem or str(result["date"])
    paths = {"md": out_dir / f"{stem}.md", "json": out_dir / f"{stem}.json", "png": out_dir / f"{stem}.png"}
    paths["json"].write_text(json.dumps(result, indent=2, default=str))
    chart(result, paths["png"])
    paths["md"].write_text(markdown(result, paths["png"].name))
    return paths


def checks(result: dict[str, Any]) -> list[tuple[str, bool]]:
    """The issue's acceptance floors, each with whether this run met it."""
    out = []
    for stage in result["stages"]:
        floor = FLOORS.get(stage["name"])
        if floor is None:
            continue
        out.append((f"{stage['name']}: ratio {_num(stage['ratio'], 1)} ≥ {floor:g}",
                    stage["ratio"] is not None and stage["ratio"] >= floor))
        if stage.get("ours_metric") is not None and stage.get("ref_metric") is not None:
            out.append((f"{stage['name']}: dsgraph {stage['metric']} {stage['ours_metric']:.4f} ≥ reference "
                        f"{stage['ref_metric']:.4f} − {QUALITY_SLACK}",
                        stage["ours_metric"] >= stage["ref_metric"] - QUALITY_SLACK))
    if result.get("overhead_ms") is not None:
        out.append((f"agent overhead {result['overhead_ms']:.1f} ms ≤ {OVERHEAD_MS_MAX:g} ms "
                    "(median per turn)", result["overhead_ms"] <= OVERHEAD_MS_MAX))
    if result.get("checkpoint_bytes") is not None:
        out.append((f"checkpoint {result['checkpoint_bytes']:,} B ≤ {CHECKPOINT_BYTES_MAX:,} B "
                    "(largest per step)", result["checkpoint_bytes"] <= CHECKPOINT_BYTES_MAX))
    if result.get("startup_s") is not None:
        out.append((f"`ask \"help\"` start-up {result['startup_s']:.2f} s ≤ {STARTUP_S_MAX:g} s",
                    result["startup_s"] <= STARTUP_S_MAX))
    return out


def markdown(result: dict[str, Any], png_name: str) -> str:
    """The report page."""
    machine, data = result["machine"], result["data"]
    lines = [f"# dsgraph bench, {result['date']} ({result['mode']} mode)", "",
             f"Machine: {machine['cpu']}, {machine['cores']} logical cores, {machine['memory_gib']} GiB; "
             f"Python {machine['python']}, scikit-learn {machine['scikit_learn']}, "
             f"pandas {machine['pandas']}. GPU: {_gpu_text(result['gpu'])}.", "",
             f"Data: {data['rows']:,} generated Titanic-shaped rows (seed {data['seed']}, no duplicated "
             f"rows), dsgraph's 80/20 split for both sides. Best achievable on the test split (Bayes-optimal "
             f"predictions of the known generating process): accuracy {data['bayes']['accuracy']:.4f}, "
             f"F1 {data['bayes']['f1']:.4f}, R² {data['bayes']['r2']:.4f}.", "",
             "| stage | dsgraph s | reference s | ratio | dsgraph | reference | metric | dsgraph peak MB "
             "| reference peak MB |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for s in result["stages"]:
        ref_s = _num(s.get("ref_s"), 1) + (" *" if s.get("extrapolated") else "")
        lines.append(f"| {s['name']} | {_num(s.get('ours_s'), 1)} | {ref_s} | {_num(s.get('ratio'), 1)} | "
                     f"{_num(s.get('ours_metric'), 4)} | {_num(s.get('ref_metric'), 4)} | "
                     f"{s.get('metric') or ''} | {_num(s.get('peak_rss_mb'), 0)} | "
                     f"{_num(s.get('ref_peak_rss_mb'), 0)} |")
    lines += ["", "\\* reference time extrapolated from finished work under the stage's wall-time cap "
              "(notes below).", "", f"![stage times]({png_name})", "", "## Agent", "",
              f"- Overhead per turn (wall time minus the steps' tool time), median of every turn: "
              f"{_num(result.get('overhead_ms'), 1)} ms; cheap turns (help, history, best): "
              f"{_num(result.get('overhead_cheap_ms'), 1)} ms.",
              f"- Checkpoint bytes per step: largest {_num(result.get('checkpoint_bytes'), 0)} B "
              f"(median {_num((result.get('checkpoint_detail') or {}).get('median'), 0)} B over "
              f"{(result.get('checkpoint_detail') or {}).get('count', 0)} checkpoints).",
              f"- CLI start-up, `python app.py ask \"help\"` (median of {result.get('startup_runs', 0)}): "
              f"{_num(result.get('startup_s'), 2)} s.", "", "## Acceptance floors", ""]
    lines += [f"- {'✓' if ok else '✗'} {text}" for text, ok in checks(result)]
    lines += ["", "## Notes", ""]
    lines += [f"- **{s['name']}**: {s['note']}" for s in result["stages"] if s.get("note")]
    lines += [f"- {note}" for note in result.get("notes") or []]
    for side in ("ours", "reference"):
        models = result.get("models", {}).get(side)
        if models:
            lines += ["", f"## Models, {'dsgraph' if side == 'ours' else 'reference'}", "",
                      "| stage | model | seconds | metrics |", "| --- | --- | ---: | --- |"]
            lines += [f"| {m['stage']} | {m['model']} | {_num(m['seconds'], 1)}"
                      f"{' *' if m.get('extrapolated') else ''} | {_metrics(m['metrics'])} |" for m in models]
    return "\n".join(lines) + "\n"


def chart(result: dict[str, Any], path: Path) -> Path:
    """Horizontal bars of dsgraph vs reference seconds per stage (log scale), labelled with the ratio."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stages = [s for s in result["stages"] if s.get("ours_s")]
    fig, ax = plt.subplots(figsize=(9, 0.7 * len(stages) + 1.5))
    for i, s in enumerate(stages):
        ax.barh(i + 0.2, s["ours_s"], height=0.38, color="#2a7ab9", label="dsgraph" if i == 0 else None)
        if s.get("ref_s"):
            ax.barh(i - 0.2, s["ref_s"], height=0.38, color="#b0b0b0", label="reference" if i == 0 else None,
                    hatch="//" if s.get("extrapolated") else None)
            ax.text(max(s["ref_s"], s["ours_s"]) * 1.1, i, f"×{s['ratio']:.3g}", va="center")
    ax.set_yticks(range(len(stages)), [s["name"] for s in stages])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("seconds (log scale; hatched: extrapolated)")
    ax.set_title(f"dsgraph vs reference pipeline, {result['data']['rows']:,} rows, {result['date']}")
    if stages:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    right = max(max(s.get("ref_s") or 0, s["ours_s"]) for s in stages) if stages else 1
    ax.set_xlim(right=right * 4)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _gpu_text(gpu: dict[str, Any]) -> str:
    if gpu.get("available"):
        return f"available ({gpu.get('reason', '')}); GPU rows are marked (GPU)"
    return f"not available ({gpu.get('reason', 'no CUDA device')}); no GPU numbers"


def _metrics(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in values.items() if isinstance(v, int | float))


def _num(value: Any, digits: int) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"

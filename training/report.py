"""The training report: report.md (figures, misread files), report.json, curves.png."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from host.confidence import FILL_THRESHOLD
from training import merge


def write(
    out: Path, results: dict[str, dict], real: merge.Folders, smoke: bool, seconds: float
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = ", ".join(str(folder) for folder in merge.folders_of(real))
    sections = {name: sec for r in results.values() for name, sec in r["report"].items()}
    (out / "report.json").write_text(json.dumps(sections, indent=1, default=str) + "\n")
    curves(sections, out / "curves.png")
    lines = [
        "# Training report",
        "",
        f"- run: {'smoke (synthetic only)' if smoke else 'full'}; data: {data or 'none'}",
        f"- took {seconds / 60:.1f} min on {platform.machine()} {platform.system()},"
        f" Python {platform.python_version()}",
        "- figures: the shipped .tflite files read through the host's readers,"
        " on the real validation split (host/scoring.py split()), whole-captcha exact match",
        "",
        "| model | images | correct | accuracy | misread"
        f" | conf>={FILL_THRESHOLD:g} (wrong) | median ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, sec in sections.items():
        v: dict[str, Any] = sec.get("validation") or {}
        if not v:
            lines.append(f"| {name} | - | - | - | - | - | - |")
            continue
        lines.append(
            f"| {name} | {v.get('images')} | {v.get('correct')} | {v.get('accuracy', 0):.4%}"
            f" | {len(v.get('misread', []))}"
            f" | {v.get('confident', '-')} ({v.get('confident_wrong', '-')})"
            f" | {v.get('median_ms', float('nan')):.2f} |"
        )
    lines += ["", "## Misread validation images", ""]
    for name, sec in sections.items():
        for m in (sec.get("validation") or {}).get("misread", []):
            lines.append(
                f"- {name}: `{m.get('file')}` read as {m.get('read')!r}"
                f" (confidence {m.get('confidence')})"
            )
    lines += ["", "## Models", ""]
    for name, sec in sections.items():
        extra = {k: v for k, v in sec.items() if k not in ("curves", "validation")}
        lines.append(f"- {name}: {json.dumps(extra, default=str)}")
    lines += ["", "![curves](curves.png)", ""]
    (out / "report.md").write_text("\n".join(lines))


def curves(sections: dict[str, dict], path: Path) -> None:
    """Loss and real-validation accuracy per epoch, one column per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    named = [(n, s["curves"]) for n, s in sections.items() if s.get("curves")]
    if not named:
        return
    fig, axes = plt.subplots(2, len(named), figsize=(4 * len(named), 6), squeeze=False)
    for col, (name, c) in enumerate(named):
        top, bottom = axes[0][col], axes[1][col]
        for key, values in c.items():
            ax = bottom if "acc" in key else top
            ax.plot(range(1, len(values) + 1), values, marker=".", label=key)
        top.set_title(name)
        top.set_yscale("log")
        top.set_ylabel("loss")
        bottom.set_ylabel("accuracy")
        bottom.set_xlabel("epoch")
        for ax in (top, bottom):
            ax.legend(fontsize=7)
            ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)

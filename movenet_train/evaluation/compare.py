"""Before/after reports: several evaluations side by side, overall and per orientation slice, as JSON and a plot.

``python eval/evaluate.py checkpoint=A compare=B ...`` evaluates both models on the same data and writes
``compare.json`` and ``compare.png``; the rotation experiment writes one with four entries (two models x
upright / rotated images).
"""

import os

import numpy as np
from matplotlib.figure import Figure

from movenet_train.evaluation import outputs
from movenet_train.evaluation.slices import SLICES

SUMMARY_KEYS = ("AP", "AP50", "AP75", "AR")


def summarize(metrics):
    """The figures of one ``evaluate()`` result that a comparison shows (with the image counts they rest on)."""
    out = {k: metrics[k] for k in SUMMARY_KEYS}
    out.update(num_images=metrics["num_images"], num_people=metrics["num_people"],
               checkpoint=metrics.get("checkpoint"), data=metrics.get("data"), protocol=metrics.get("protocol"))
    out["slices"] = {name: {"AP": s["AP"], "num_images": s["num_images"], "num_people": s["num_people"]}
                     for name, s in metrics.get("slices", {}).items()}
    return out


def build_report(entries):
    """``entries``: {label: evaluate() metrics}. Returns {"entries": {label: summary}, "groups": [...]}."""
    summaries = {label: summarize(m) for label, m in entries.items()}
    groups = ["overall"] + [s for s in SLICES if any(s in e["slices"] for e in summaries.values())]
    return {"entries": summaries, "groups": groups}


def ap_of(summary, group):
    """AP of ``group`` (``overall`` or a slice name) in a summary; None where the slice has no image."""
    if group == "overall":
        return summary["AP"]
    entry = summary["slices"].get(group)
    return entry["AP"] if entry else None


def count_of(summary, group):
    if group == "overall":
        return summary["num_images"]
    entry = summary["slices"].get(group)
    return entry["num_images"] if entry else 0


def format_report(report):
    """One line per model: AP, image count and each orientation slice's AP (image count)."""
    return "\n".join(f"{label:20s} AP {entry['AP']:.4f} on {entry['num_images']} images   "
                     + "  ".join(f"{k} {v['AP']:.3f} ({v['num_images']})" for k, v in entry["slices"].items())
                     for label, entry in report["entries"].items())


def figure(report, title):
    """Grouped bars: AP overall and per slice, one bar per entry, each labelled with its image count."""
    labels, groups = list(report["entries"]), report["groups"]
    fig = Figure(figsize=(min(12.0, 2.5 + 0.55 * len(groups) * len(labels)), 4.5), dpi=100)
    ax = fig.add_subplot()
    width = 0.8 / len(labels)
    x = np.arange(len(groups))
    for i, label in enumerate(labels):
        summary = report["entries"][label]
        values = [ap_of(summary, g) for g in groups]
        bars = ax.bar(x - 0.4 + width * (i + 0.5), [v or 0.0 for v in values], width, label=label)
        for bar, group, value in zip(bars, groups, values):
            if value is not None:
                ax.annotate(f"{value:.2f}\nn={count_of(summary, group)}", (bar.get_x() + bar.get_width() / 2,
                            bar.get_height()), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, groups)
    ax.set(ylabel="keypoint AP (pycocotools)", ylim=(0, 1.1), title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def write_report(output_dir, report, title, name="compare"):
    """``<name>.json`` and ``<name>.png`` in ``output_dir``, each written atomically; returns the JSON path."""
    outputs.write_png(os.path.join(output_dir, f"{name}.png"), figure(report, title))
    path = os.path.join(output_dir, f"{name}.json")
    outputs.write_json(path, report, indent=2)
    return path

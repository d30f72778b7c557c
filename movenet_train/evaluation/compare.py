"""Before/after reports: several evaluations side by side, overall and per orientation slice, as JSON and a plot.

``python eval/evaluate.py checkpoint=A compare=B ...`` evaluates both models on the same data and writes
``compare.json`` and ``compare.png``; the rotation experiment writes one with four entries (two models x
upright / rotated images).
"""

import os

from movenet_train.evaluation import bootstrap, outputs
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


def paired(before, after, resamples=bootstrap.DEFAULT_RESAMPLES, seed=bootstrap.DEFAULT_SEED):
    """AP(after) - AP(before) with its 95% paired bootstrap interval over images, from two ``Evaluation``s of the
    same data (``evaluator.run_evaluation``); with the people count it rests on."""
    result = bootstrap.paired_difference(before.ap.matches, after.ap.matches, resamples, seed)
    result["num_people"] = before.metrics["num_people"]
    result["protocol"] = before.metrics["protocol"]
    return result


def format_paired(result):
    """``AP difference (B - A): +0.102 [+0.041, +0.170] (95% paired bootstrap over ...)``."""
    return "AP difference (second - first): " + bootstrap.format_difference(result, result.get("num_people"))


def format_report(report):
    """One line per model: AP, image and people counts and each orientation slice's AP (image count); then the
    paired difference with its interval when the report has one."""
    lines = [f"{label:20s} AP {entry['AP']:.4f} on {entry['num_images']} images, {entry['num_people']} people   "
             + "  ".join(f"{k} {v['AP']:.3f} ({v['num_images']})" for k, v in entry["slices"].items())
             for label, entry in report["entries"].items()]
    if report.get("paired"):
        lines.append(format_paired(report["paired"]))
    return "\n".join(lines)


def people_of(summary, group):
    """People count of ``group`` in a summary (0 where the slice has no image)."""
    if group == "overall":
        return summary["num_people"]
    entry = summary["slices"].get(group)
    return entry["num_people"] if entry else 0


def differences(report):
    """[(label, paired result)]: the report's paired differences, ``compare=``'s one (second - first) or an
    experiment's changes per pooled set (fine-tuned - initial)."""
    out = []
    if report.get("paired"):
        first, second = list(report["entries"])[:2]
        out.append((f"{second} - {first}", report["paired"]))
    out += [(f"{name}: fine-tuned - initial", result) for name, result in report.get("changes", {}).items()]
    return out


def figure(report, title):
    """AP per model overall and per slice with people counts, and the paired differences with their intervals
    (``plots.comparison_figure``)."""
    from movenet_train.evaluation.plots import comparison_figure

    groups = report["groups"]
    bars = {label: [(ap_of(summary, g), people_of(summary, g)) for g in groups]
            for label, summary in report["entries"].items()}
    return comparison_figure(groups, bars, differences(report), title)


def write_report(output_dir, report, title, name="compare"):
    """``<name>.json`` and ``<name>.png`` in ``output_dir``, each written atomically; returns the JSON path."""
    outputs.write_png(os.path.join(output_dir, f"{name}.png"), figure(report, title))
    path = os.path.join(output_dir, f"{name}.json")
    outputs.write_json(path, report, indent=2)
    return path

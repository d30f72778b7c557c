"""PNG plots of an eval: precision-recall curves and per-joint accuracy; the before/after comparison.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so nothing touches the global backend or
opens a window in a training process.
"""

import textwrap
import warnings

import numpy as np
from matplotlib.figure import Figure


def precision_recall_figure(ap, title):
    """Curves at OKS 0.50 and 0.75 and their mean over OKS 0.50:0.95 (COCO's AP is the area under the mean)."""
    fig = Figure(figsize=(5.5, 4.5), dpi=100)
    ax = fig.add_subplot()
    precision = np.where(ap.precision < 0, np.nan, ap.precision)  # -1: undefined
    curves = [(f"OKS {t:.2f}", precision[i]) for i, t in enumerate(ap.oks_thresholds) if round(t, 2) in (0.5, 0.75)]
    with warnings.catch_warnings():  # recall levels no threshold reaches are NaN, not an error
        warnings.simplefilter("ignore", RuntimeWarning)
        curves.append(("mean OKS 0.50:0.95", np.nanmean(precision, axis=0) if precision.size else precision))
    for label, curve in curves:
        ax.plot(ap.recall_thresholds, curve, label=label)
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02),
           title=f"{title}\nAP {ap.stats['AP']:.3f}  AP50 {ap.stats['AP50']:.3f}  AP75 {ap.stats['AP75']:.3f}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def per_keypoint_figure(table, title):
    """Horizontal bars per joint: mean OKS term and PCK at the OKS-0.5 radius."""
    fig = Figure(figsize=(6, 6), dpi=100)
    ax = fig.add_subplot()
    names = [row["keypoint"] for row in table]
    y = np.arange(len(names))
    for offset, key, label in ((-0.2, "mean_oks", "mean OKS term"), (0.2, "pck", "PCK (OKS term >= 0.5)")):
        ax.barh(y + offset, [row[key] or 0.0 for row in table], height=0.4, label=label)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="accuracy", title=title)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)  # below: bars reach 1
    fig.tight_layout()
    return fig


def comparison_figure(groups, bars, differences, title):
    """AP bars per group (overall and slices), one bar per model, each labelled with its AP and people count;
    beside them, each paired difference as a point with its interval, labelled with the figures it rests on.

    ``bars``: {label: [(AP or None, people), ...] per group}; ``differences``: [(label, paired result)] where a
    paired result is ``bootstrap.paired_difference``'s dict with ``num_people`` (empty: no panel). The comparison a
    reader needs is the difference and its interval, not two bar heights.
    """
    # Constrained layout fits the suptitle, tick labels and legends inside the canvas (tight_layout leaves a
    # suptitle wider than the axes cut off); the title is wrapped to the figure's width as well.
    width = min(14.0, 2.5 + 0.55 * len(groups) * len(bars) + (4.5 if differences else 0.0))
    fig = Figure(figsize=(width, 4.8), dpi=100, layout="constrained")
    fig.suptitle("\n".join(textwrap.wrap(title, width=int(width * 11))), fontsize=11)
    if differences:
        ax, diff_ax = fig.subplots(1, 2, width_ratios=[max(1.0, 0.25 * len(groups) * len(bars)), 1.0])
    else:
        ax, diff_ax = fig.add_subplot(), None
    bar_width = 0.8 / len(bars)
    x = np.arange(len(groups))
    for i, (label, values) in enumerate(bars.items()):
        drawn = ax.bar(x - 0.4 + bar_width * (i + 0.5), [ap or 0.0 for ap, _ in values], bar_width, label=label)
        for bar, (ap, people) in zip(drawn, values):
            if ap is not None:
                ax.annotate(f"{ap:.2f}\n{_people(people)}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, groups)
    ax.set(ylabel="keypoint AP (pycocotools)", ylim=(0, 1.15), title="AP per model")
    ax.grid(axis="y", alpha=0.3)
    # below the axes: bars of AP 1 reach the top, where a legend inside would hide their labels
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=min(len(bars), 2), fontsize=8, frameon=False)
    if diff_ax is not None:
        _differences(diff_ax, differences)
    return fig


def _people(count):
    return f"{count} person" if count == 1 else f"{count} people"


def _differences(ax, differences):
    """One row per paired difference: the point, its interval as error bars, zero marked, the figures written."""
    y = np.arange(len(differences))[::-1]
    for row, (label, result) in zip(y, differences):
        value, low, high = result["difference"], result["low"], result["high"]
        ax.errorbar([value], [row], xerr=[[value - low], [high - value]], fmt="o", color="black", capsize=4,
                    label=label)
        people = f"{_people(result['num_people'])}, " if result.get("num_people") is not None else ""
        ax.annotate(f"{value:+.3f} [{low:+.3f}, {high:+.3f}]\n{people}{result['num_images']} images",
                    (value, row), xytext=(0, 7), textcoords="offset points", ha="center", va="bottom", fontsize=8)
    ax.axvline(0.0, color="0.4", linewidth=1, linestyle="--")
    # an interval of no resample that scores (NaN) leaves the axis to the others
    reach = max([abs(v) for _, r in differences for v in (r["low"], r["high"], r["difference"]) if np.isfinite(v)]
                + [0.01])
    ax.set_xlim(-1.6 * reach, 1.6 * reach)  # room for the figures written above a point
    ax.set_ylim(-0.6, len(differences) - 0.2)
    ax.set_yticks(y, ["\n".join(textwrap.wrap(label, 24, break_on_hyphens=False)) for label, _ in differences],
                  fontsize=8)
    confidence = differences[0][1].get("confidence", 0.95)
    ax.set(xlabel=f"AP difference, {100 * confidence:.0f}% paired bootstrap interval", title="paired difference")
    ax.grid(axis="x", alpha=0.3)

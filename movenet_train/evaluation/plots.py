"""PNG plots of an eval: precision-recall curves and per-joint accuracy.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so nothing touches the global backend or
opens a window in a training process.
"""

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

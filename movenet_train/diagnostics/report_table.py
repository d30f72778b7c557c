"""The objective audit's report as a short text table."""


def format_report(report):
    """A short text table of the report."""
    lines = []
    for framing, r in report["framings"].items():
        lines.append(f"== {framing} framing ({r['examples']} examples)")
        lines.append("residual (pred - target, cells)   ring  count  signed   |abs|   gain")
        for key, rings in r["residuals"].items():
            for ring, s in rings.items():
                gain = "  -  " if s["gain"] is None else f"{s['gain']:.2f}"
                lines.append(f"  {key:30s} {ring:>4s} {s['count']:6d} {s['mean_signed_residual']:+.3f}  "
                             f"{s['mean_abs_residual']:.3f}  {gain}")
        lines.append("peak width (sigma, cells)         size   count  predicted  target")
        for head, sizes in r["peak_widths"].items():
            for size, s in sizes.items():
                lines.append(f"  {head:30s} {size:>6s} {s['count']:6d}  {s['predicted_sigma']:.2f}       "
                             f"{s['target_sigma']:.2f}")
        c = r["centre"]
        if c["count"]:
            lines.append(f"centre: distance to keypoint mean {c['mean_distance_to_keypoint_mean']:.2f} cells, to box "
                         f"centre {c['mean_distance_to_box_centre']:.2f}; keypoint mean nearer in "
                         f"{100 * c['keypoint_mean_nearer_share']:.0f}% of {c['count']}")
        lines.append("loss term                          loss   share  backbone grad norm")
        for key, s in r["loss_terms"].items():
            share = "  -  " if s["share"] is None else f"{100 * s['share']:.0f}%"
            lines.append(f"  {key:30s} {s['loss']:.4f} {share:>6s}  {s['backbone_gradient_norm']:.4f}")
        step = r.get("signed_step_ap")
        for name, aps in (step or {}).items():
            if name == "step_size" or aps["before"] is None:
                continue
            lines.append(f"single_person AP of the {name} images after one signed-gradient step of "
                         f"{step['step_size']:g} on these examples' labels (before {aps['before']:.4f}):")
            lines.append("  " + "  ".join(f"{k} {v:.4f}" for k, v in aps.items() if k != "before" and v is not None))
    bn = report.get("batch_norm")
    if bn:
        lines.append("BatchNorm re-estimation (function kept): max change of head outputs "
                     f"{bn['keep_function_max_output_change']:.1e}, of decoded keypoints and scores "
                     f"{bn['keep_function_max_decoded_change']:.1e}; |training - inference mode| logits on other "
                     f"batches: before {bn['train_vs_inference_mode_before']['keypoint_heatmap']:.3f}, after "
                     f"{bn['train_vs_inference_mode_after_keep_function']['keypoint_heatmap']:.3f} (keypoint heatmap)")
        if bn.get("ap_before") is not None:
            lines.append(f"single_person AP: as is {bn['ap_before']:.4f}, function-keeping re-estimation "
                         f"{bn['ap_keep_function']:.4f}, then classic precise BatchNorm on other batches "
                         f"{bn['ap_classic_precise_batch_norm']:.4f}")
    return "\n".join(lines)

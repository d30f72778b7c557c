"""``render(metrics)``: MODEL_CARD.md from the contents of a bundle's metrics.json, and nothing else.

The sections follow Google's MoveNet SinglePose model card (model details, inputs and outputs, intended use and
limitations, training data, evaluation, latency) plus the bundle's files. Every figure is printed from the JSON
as it is stored (rounded once, when metrics.json was written), so a figure of the card and its entry in
metrics.json are the same number. Pure Python: no TensorFlow, no file access.
"""

import json

GOOGLE_CARD = "https://storage.googleapis.com/movenet/MoveNet.SinglePose%20Model%20Card.pdf"
DASH = "–"
PROTOCOLS = {
    "every_person": "`every_person`: every annotated person (not a crowd, at least one labelled keypoint) is cut "
                    "from its image as a square of {crop_scale} × the longer side of their box and resized to the "
                    "file's input; the one pose the file returns is scored against every annotation of that image "
                    "(top-down, ground-truth boxes) by pycocotools' COCOeval (OKS keypoint AP)",
    "single_person": "`single_person`: the images with exactly one annotated person, each whole image letterboxed "
                     "to the file's input, scored by pycocotools' COCOeval (OKS keypoint AP)",
}


def render(metrics):
    """The text of MODEL_CARD.md for ``metrics`` (the dict json.load gives for metrics.json)."""
    parts = [_title(metrics), _details(metrics), _inputs_outputs(metrics), _intended_use(metrics),
             _training(metrics), _evaluation(metrics), _latency(metrics), _files(metrics)]
    return "\n\n".join(parts) + "\n"


# -- figures, printed as stored ---------------------------------------------------------------------------------

def ap(value):
    return DASH if value is None else f"{value:.4f}"


def difference(entry):
    """``+0.0123 [-0.0100, +0.0345]``: a paired difference with its interval (n/a where it is undefined)."""
    if entry is None or entry.get("difference") is None:
        return "n/a"
    low, high = entry.get("low"), entry.get("high")
    interval = f"[{low:+.4f}, {high:+.4f}]" if low is not None and high is not None else "[n/a]"
    return f"{entry['difference']:+.4f} {interval}"


def milliseconds(value):
    return DASH if value is None else f"{value:.2f}"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _model_files(metrics):
    return {name: entry for name, entry in metrics["files"].items() if entry["role"] == "model"}


# -- sections ---------------------------------------------------------------------------------------------------

def _title(metrics):
    model = metrics["model"]
    return (f"# Model card: {model['name']}\n\n"
            f"Written by `python -m movenet_train.release` on {model['created']}. Every figure below is read from "
            "`metrics.json` in this folder, which holds the same numbers; the files it describes are listed, with "
            "their sizes and sha256, under [Files](#files).")


def _details(metrics):
    model, files = metrics["model"], _model_files(metrics)
    keypoints = model["keypoints"]
    any_files = [name for name, entry in files.items() if entry["orientation"] == "any"]
    lines = [
        "## Model details",
        "",
        f"- **Name**: {model['name']}",
        f"- **Overview**: a MoveNet SinglePose model: a convolutional network that finds the {len(keypoints['names'])} "
        f"keypoints of one person (schema `{keypoints['name']}`) in an image, with the decoding (centre, "
        "keypoint heatmaps, regression and offsets into one pose) inside the graph, as Google's released "
        "MoveNet files; trained and exported with this repository.",
        f"- **Architecture**: MobileNetV2 of width {model['alpha']} with a feature pyramid and four heads at stride 4 "
        f"(person centre, keypoint heatmaps, keypoint regression, keypoint offsets); variant `{model['variant']}`, "
        f"input {model['input_size']}×{model['input_size']}"
        + ("; quantisation-aware training (the INT8 file uses its learned ranges)" if model["quantization_aware"]
           else "") + ".",
        f"- **Version**: {model['version']}",
        f"- **Source**: `{model['checkpoint']}` ({model['checkpoint_format']}, sha256 "
        f"`{model['checkpoint_sha256']}`)",
    ]
    if model.get("owners"):
        lines.append(f"- **Owners**: {model['owners']}")
    lines += [
        f"- **Formats**: {', '.join(f'`{name}`' for name in files)}"
        + (f"; left out: {', '.join(f'`{fmt}` ({why})' for fmt, why in metrics['left_out'].items())}"
           if metrics.get("left_out") else ""),
        "- **License**: the code that made these files is Apache-2.0; weights started from Google's released "
        "MoveNet weights carry their license (Apache-2.0).",
        f"- **References**: Google's MoveNet SinglePose model card ({GOOGLE_CARD}); this repository's "
        "docs/export.md (the files) and docs/evaluation.md (the protocols).",
    ]
    if any_files:
        lines.append(f"- **`orientation=any` files** ({', '.join(f'`{n}`' for n in any_files)}): the same signature "
                     "with the quarter-turn search inside the graph (the input and its three quarter turns through "
                     "the network, the best view chosen and its keypoints turned back), so they find people lying, "
                     "fallen or upside down; each call costs about four upright ones.")
    return "\n".join(lines)


def _tensor(tensors):
    return "; ".join(f"`{name}` {spec['dtype']} {spec['shape']}" for name, spec in tensors.items())


def _inputs_outputs(metrics):
    model, files = metrics["model"], _model_files(metrics)
    size, names = model["input_size"], model["keypoints"]["names"]
    rows = []
    for name, entry in files.items():
        signatures = entry["signature"]
        key = "serving_default" if "serving_default" in signatures else next(iter(signatures), None)
        signature = signatures.get(key, {}) if key else {}
        rows.append([f"`{name}`", key or DASH, _tensor(signature.get("inputs", {})) or DASH,
                     _tensor(signature.get("outputs", {})) or DASH])
    return "\n".join([
        "## Model inputs/outputs",
        "",
        f"The released MoveNet signature. **Input**: one RGB frame or crop, `[1, {size}, {size}, 3]`, pixel values "
        "0–255 (int32 for the SavedModel and TF.js, uint8 for TFLite), resized with padding to keep its aspect "
        f"ratio. **Output**: `[1, 1, {len(names)}, 3]` float32: for each keypoint y and x, normalised to [0, 1] over "
        "the input (the padding included), and a confidence score in [0, 1].",
        "",
        _table(["file", "signature", "input", "output"], rows),
        "",
        "Keypoints, in output order: " + ", ".join(f"{i} {n}" for i, n in enumerate(names)) + ".",
    ])


def _intended_use(metrics):
    files = _model_files(metrics)
    has_int8 = any(entry["format"].endswith("int8") for entry in files.values())
    upright = any(entry["orientation"] == "upright" for entry in files.values())
    lines = [
        "## Intended use and limitations",
        "",
        "- **Intended use**: the pose of one person in a frame or crop, on phones, browsers and small devices, for "
        "fitness, wellness, sports and motion-analysis applications; in video, with a tracker that crops the "
        "person from the previous frame's keypoints (this repository's docs/video.md).",
        "- **One person per call**: the output is the person whose centre scores highest once weighted by closeness "
        "to the image centre. For several people, crop each person first (as the `every_person` evaluation does) or "
        "use a MultiPose model.",
        "- **Where it fails**: people small in the frame, heavily occluded or cut off, motion blur, unusual "
        "viewpoints and poses the training data lacks; scores are not calibrated probabilities (check each "
        "keypoint's score against a threshold chosen for the application).",
    ]
    if upright:
        lines.append("- **Turned people**: the upright files, as Google's, miss most people lying, fallen, upside "
                     "down or in a sideways photo; the `orientation=any` files (or `orientation=any` in this "
                     "repository's runtime) handle them at about four times the compute.")
    if has_int8:
        lines.append("- **INT8**: quantisation moves keypoints; compare its row with the float files' under "
                     "[Evaluation](#evaluation) before choosing it for accuracy-sensitive use.")
    lines += [
        "- **Out of scope**: identifying or recognising people, surveillance, and medical or safety-critical "
        "decisions; the model estimates body keypoints only.",
        "- **Fairness**: accuracy can differ across body shapes, clothing, skin tones, ages and camera setups; the "
        "evaluation below is small and does not measure these factors: evaluate on data of the intended users "
        "before release.",
    ]
    return "\n".join(lines)


def _value(value):
    return value if isinstance(value, str) else json.dumps(value)


def _training(metrics):
    training, calibration = metrics.get("training"), metrics["calibration"]
    lines = ["## Training data and recipe", ""]
    if training:
        lines += [f"From the run's saved config `{training['config_file']}`:", "",
                  _table(["key", "value"], [[f"`{key}`", f"`{_value(value)}`"]
                                            for key, value in training["recipe"].items()])]
    else:
        lines.append(f"No training config (train_config.yaml) was found with `{metrics['model']['checkpoint']}`: "
                     "the weights were imported or released rather than trained by a recorded run; see their own "
                     f"model card (Google's: {GOOGLE_CARD}).")
    source = calibration.get("source")
    lines += ["", "**INT8 calibration**: " + (
        f"{calibration['num_images']} images from "
        + ", ".join(f"`{key}={value}`" for key, value in source.items())
        + f" ({calibration['excluded_eval_images']} evaluation images left out); parts kept in float32: "
        + (", ".join(calibration["int8_float_parts"]) or "none") + "." if source else "none (no INT8 file).")]
    return "\n".join(lines)


def _evaluation(metrics):
    evaluation = metrics.get("evaluation")
    lines = ["## Evaluation", ""]
    if not evaluation:
        lines.append("Not evaluated: the bundle was made without `evaluation.annotations` / `evaluation.images`.")
        return "\n".join(lines)
    protocol = PROTOCOLS.get(evaluation["protocol"], f"`{evaluation['protocol']}`").format(
        crop_scale=evaluation["crop_scale"])
    references = evaluation["references"]
    bootstrap = evaluation["bootstrap"]
    lines += [
        f"Protocol {protocol}. Data: `{evaluation['annotations']}` ({evaluation['num_images']} images, "
        f"{evaluation['num_people']} people).",
        "",
    ]
    header = ["file", "AP", "AP50", "AP75", "AR", "people"] + [f"− `{label}` [95% interval]" for label in references]
    rows = [[f"`{name}`", *(ap(entry[k]) for k in ("AP", "AP50", "AP75", "AR")), entry["num_people"],
             *(difference(entry["versus"].get(label)) for label in references)]
            for name, entry in evaluation["files"].items()]
    rows += [[f"reference `{label}`", *(ap(entry[k]) for k in ("AP", "AP50", "AP75", "AR")), entry["num_people"],
              *(DASH for _ in references)] for label, entry in references.items()]
    lines.append(_table(header, rows))
    if references:
        lines += ["", f"A difference is the file's AP minus the reference's on the same people, with the "
                      f"{100 * bootstrap['confidence']:.0f}% percentile interval of {bootstrap['resamples']} paired "
                      f"bootstrap resamples of the images (seed {bootstrap['seed']}; the people of one image stay "
                      "together). An interval that contains 0 does not show a difference. References:"]
        lines += [f"- `{label}`: `{entry['path']}` (sha256 `{entry['sha256']}`)" for label, entry in references.items()]
    lines += ["", f"{evaluation['num_images']} images are a small sample: the intervals, not the AP figures alone, "
                  "say what this evaluation can tell apart."]
    return "\n".join(lines)


def _latency(metrics):
    latency = metrics.get("latency")
    lines = ["## Latency", ""]
    if not latency:
        lines.append("Not measured (`latency.runs=0`).")
        return "\n".join(lines)
    machine = latency["machine"]
    cores = f", {machine['physical_cores']} physical cores" if machine.get("physical_cores") else ""
    load = latency.get("load_average_start"), latency.get("load_average_end")
    lines += [
        f"Measured on {machine['cpu_model']} ({machine['logical_cpus']} logical CPUs{cores}, "
        f"{machine['usable_cpus']} usable by the process), {machine['platform']}, LiteRT {machine['litert']}"
        + (f"; load average {load[0][0]} at the start, {load[1][0]} at the end" if load[0] and load[1] else "")
        + f". Median milliseconds of {latency['runs']} timed calls (after {latency['warmup']} untimed), per LiteRT "
        f"thread count, image in and keypoints out (`load_predictor`), on {latency['image']}; the files of one "
        "input size take turns in short rounds, so that a load change hits them alike. Compare figures within "
        "this table only: another machine, or this one under another load, gives others. SavedModel and TF.js "
        "files are not timed (LiteRT runs `.tflite` files).",
        "",
    ]
    header = ["file"] + [f"{t} thread{'s' if t != 1 else ''} (ms)" for t in latency["threads"]]
    rows = [[f"`{name}`", *(milliseconds(times.get(str(t))) for t in latency["threads"])]
            for name, times in latency["files"].items()]
    rows += [[f"reference `{label}`", *(milliseconds(times.get(str(t))) for t in latency["threads"])]
             for label, times in latency["references"].items()]
    lines.append(_table(header, rows))
    return "\n".join(lines)


def _files(metrics):
    rows = [[f"`{name}`", entry["role"], entry["bytes"], f"{entry['megabytes']:.2f}", f"`{entry['sha256']}`"]
            for name, entry in metrics["files"].items()]
    lines = ["## Files", "", _table(["file", "role", "bytes", "MB", "sha256"], rows), "",
             "A folder's sha256 is that of its `sha256sum` listing: one `<sha256>  <path inside the folder>` line "
             "per file, sorted by path. `keypoints.json` (the keypoint schema) goes beside the model files: this "
             "repository's runtime reads the joints' names from it. The export reports hold each file's parity with "
             "the Keras model."]
    for fmt, why in (metrics.get("left_out") or {}).items():
        lines.append(f"\n`{fmt}` is not in this bundle: {why}.")
    return "\n".join(lines)

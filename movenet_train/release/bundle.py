"""``build(cfg)``: a model's release bundle (configs/release.yaml) written whole or not at all.

The files come from the exporter (``export.exporter.export_model``, the path of ``export/export.py``), upright and
``orientation=any``, into a temporary sibling of the output folder. Each is then loaded back through
``runtime.load_predictor`` and run on one image; evaluated (``evaluation.evaluator.run_evaluation``, paired
intervals by ``evaluation.compare.paired``) and timed (``export.report.latency``) against the reference files;
``metrics.json`` holds the figures and ``MODEL_CARD.md`` is rendered from that file (``card.render``). Only then
is the folder renamed into place. Nothing here imports TensorFlow before the checks of the command line are done.
"""

import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess

from movenet_train import model_files
from movenet_train.atomic import check_output, staging_folder
from movenet_train.config import COUNT, NON_NEGATIVE_COUNT, POSITIVE
from movenet_train.errors import UserError
from movenet_train.release import card

CARD_FILE = "MODEL_CARD.md"
METRICS_FILE = "metrics.json"
FORMAT_VERSION = 1
# The exporter's report of each part, kept in the bundle under these names.
EXPORT_REPORTS = {"upright": "export_report.json", "any": "export_report_any.json"}
PROTOCOLS = ("every_person", "single_person")
AP_KEYS = ("AP", "AP50", "AP75", "AR")
DIGITS = 4  # AP, differences and intervals in metrics.json (and so in the card)
MS_DIGITS = 2  # latency in milliseconds
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build(cfg):
    """Writes the bundle ``cfg`` describes to ``cfg.output``; returns the metrics dict (``metrics.json``)."""
    output = os.path.abspath(str(cfg.output))
    check_output(output, cfg.overwrite)  # before anything slow
    checkpoint = check_checkpoint(cfg.checkpoint)
    options = check_options(cfg)

    from movenet_train.export import exporter
    from movenet_train.export.calibration import calibration_images
    from movenet_train.jobs.export import eval_scored_images
    from movenet_train.model_files import check_compatible, config_schema, config_spec
    from movenet_train.runtime import load_keras

    formats, left_out = drop_in_formats(cfg.formats)
    any_formats = list(cfg.any_formats)
    if not formats and not any_formats:
        raise UserError(f"formats={list(cfg.formats)} and any_formats=[] leave nothing to release"
                        + (f" ({'; '.join(left_out.values())})" if left_out else ""))
    if formats:
        exporter.check_formats(formats)
    if any_formats:
        exporter.check_formats(any_formats, "any")

    model, spec = load_keras(checkpoint, config_spec(cfg))
    check_compatible(checkpoint, spec, config_schema(cfg))
    if spec.multi_pose:
        raise UserError(f"{checkpoint} is MoveNet {spec.name}, a multi-pose model: the release bundle and its card "
                        "are for single-pose models ([1,1,K,3] out); export MultiPose files with export/export.py")
    evaluation = options["evaluation"]
    exclude = []
    if evaluation and cfg.calibration.exclude_eval_images:
        exclude = eval_scored_images(spec, {**evaluation, "crop": "none"})
    images, names = calibration_images(cfg.calibration, spec.input_size, spec.input_size, exclude, schema=spec.schema)
    from movenet_train.checkpoints import sha256_of

    source = {"checkpoint": os.path.abspath(checkpoint), "checkpoint_sha256": sha256_of(checkpoint),
              "calibration": {"num_images": len(names), "excluded_eval_images": len(exclude), "images": names}}

    with staging_folder(output, cfg.overwrite) as staging:
        files = {}
        for orientation, fmts in (("upright", formats), ("any", any_formats)):
            if fmts:
                files.update(_export_part(model, spec, staging, orientation, fmts, images, cfg, source))
        files = {**{n: e for n, e in files.items() if e["role"] == "model"},
                 **{n: e for n, e in files.items() if e["role"] != "model"}}  # the drop-in files first
        check_image, check_source = _check_image(cfg.check_image, images)
        for name, entry in files.items():
            if entry["role"] == "model":
                entry["check"] = check_file(os.path.join(staging, name), check_image, spec, cfg.num_threads)
                entry["check"]["image"] = check_source
        models = {name: os.path.join(staging, name) for name, entry in files.items() if entry["role"] == "model"}
        metrics = {
            "format_version": FORMAT_VERSION,
            "model": model_details(spec, checkpoint, source["checkpoint_sha256"], cfg.get("card") or {}),
            "files": files,
            "left_out": left_out,
            "calibration": {**source["calibration"], "source": _calibration_source(cfg.calibration),
                            "int8_float_parts": list(cfg.int8.float_parts)},
            "training": training_recipe(checkpoint),
            "evaluation": evaluate_files(models, options["references"], evaluation, spec, cfg.num_threads)
            if evaluation else None,
            "latency": measure_latency(models, options["references"], options["latency"], check_image,
                                       check_source)
            if options["latency"]["runs"] else None,
        }
        metrics_path = os.path.join(staging, METRICS_FILE)
        with open(metrics_path, "w") as f:
            json.dump(metrics, f, indent=2, allow_nan=False)
            f.write("\n")
        # The card is rendered from the file just written, not from the dict: one source for both.
        with open(metrics_path) as f:
            text = card.render(json.load(f))
        with open(os.path.join(staging, CARD_FILE), "w") as f:
            f.write(text)
    return metrics


# -- checks before anything slow ------------------------------------------------------------------------------

def check_checkpoint(path):
    """``path`` if it names a model, checked without TensorFlow; else the error a user reads.

    A training run's folder must hold ``model/`` (the EMA weights with re-estimated BatchNorm that training writes
    at each validation): a release is of that model, not of a raw training checkpoint, which can still be named as
    ``<run>/checkpoints/ckpt-N``. Another folder must be a SavedModel or a checkpoint folder."""
    path = str(path)
    fmt = model_files.file_format(path)  # FileNotFoundError naming it when nothing is there
    if fmt != "checkpoint" or not os.path.isdir(path):
        return path
    if os.path.isfile(os.path.join(model_files.inference_folder(path), model_files.SPEC_FILE)):
        return path
    model = os.path.join(path, model_files.MODEL_DIR)
    if os.path.isfile(os.path.join(path, model_files.TRAIN_CONFIG_FILE)):
        raise UserError(f"run folder {path} holds no model: no {model_files.MODEL_DIR}/{model_files.SPEC_FILE} "
                        f"(training writes {model}/ at its first validation); release the run after it has "
                        f"validated, or name one of its checkpoints, checkpoint={path}/"
                        f"{model_files.CHECKPOINTS_DIR}/ckpt-N")
    if any(os.path.isfile(os.path.join(folder, "checkpoint"))
           for folder in (path, os.path.join(path, model_files.CHECKPOINTS_DIR))):
        return path
    raise UserError(f"{path} holds no model: no {model_files.MODEL_DIR}/{model_files.SPEC_FILE}, no "
                    f"{model_files.SPEC_FILE} and no tf.train checkpoint in it or in its "
                    f"{model_files.CHECKPOINTS_DIR}/; pass a training run folder, a checkpoint or a model file")


def check_options(cfg):
    """The reference files ({label: path}), evaluation options (None: not evaluated) and latency options, every
    number and file they name checked."""
    latency = cfg.latency
    threads = list(latency.threads)
    if not threads:
        raise UserError("latency.threads=[]: give at least one thread count, or latency.runs=0 to skip latency")
    options = {"latency": {"runs": NON_NEGATIVE_COUNT.check(latency.runs, "latency.runs"),
                           "warmup": NON_NEGATIVE_COUNT.check(latency.warmup, "latency.warmup"),
                           "threads": [COUNT.check(t, "latency.threads") for t in threads]},
               "references": {}}
    if cfg.check_image is not None and not os.path.isfile(str(cfg.check_image)):
        raise FileNotFoundError(f"check_image={cfg.check_image} does not exist")
    for reference in (str(r) for r in (cfg.references or [])):
        try:
            model_files.file_format(reference)
        except FileNotFoundError as err:
            raise FileNotFoundError(f"references: {err}; references=[] compares with none") from err
        options["references"][_label(reference, options["references"])] = reference
    evaluation = cfg.evaluation
    if not evaluation.annotations:
        if evaluation.images:
            raise UserError(f"evaluation.images={evaluation.images} needs evaluation.annotations=<COCO json>")
        options["evaluation"] = None
        return options
    if not os.path.isfile(str(evaluation.annotations)):
        raise FileNotFoundError(f"evaluation.annotations={evaluation.annotations} does not exist")
    if not evaluation.images or not os.path.isdir(str(evaluation.images)):
        raise FileNotFoundError(f"evaluation.images={evaluation.images} is not a folder (the images "
                                f"evaluation.annotations names)")
    if evaluation.protocol not in PROTOCOLS:
        raise UserError(f"evaluation.protocol={evaluation.protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    options["evaluation"] = {
        "annotations": os.path.abspath(str(evaluation.annotations)),
        "images": os.path.abspath(str(evaluation.images)),
        "protocol": evaluation.protocol,
        "crop_scale": POSITIVE.check(evaluation.crop_scale, "evaluation.crop_scale"),
        "batch_size": COUNT.check(evaluation.batch_size, "evaluation.batch_size"),
        "resamples": COUNT.check(evaluation.bootstrap.resamples, "evaluation.bootstrap.resamples"),
        "seed": int(evaluation.bootstrap.seed),
    }
    return options


def drop_in_formats(formats):
    """(the formats to write, {format: why it is left out}): ``tfjs`` only where the converter imports."""
    from movenet_train.export import tfjs_export

    kept, left_out = [], {}
    for fmt in formats:
        if fmt == "tfjs":
            try:
                tfjs_export.converter()
            except UserError:
                left_out[fmt] = f"the tensorflowjs converter is not installed ({tfjs_export.INSTALL})"
                continue
            except ImportError as err:
                left_out[fmt] = f"the tensorflowjs converter does not import ({err}); {tfjs_export.INSTALL}"
                continue
        kept.append(fmt)
    return kept, left_out


# -- writing and checking the files ---------------------------------------------------------------------------

def _export_part(model, spec, staging, orientation, formats, images, cfg, source):
    """The exporter's files of one orientation, moved from a folder of their own into ``staging``; the file
    entries of metrics.json (exported files, the schema file, the export report)."""
    from movenet_train.export.exporter import export_model
    from movenet_train.export.report import REPORT_FILE

    part = os.path.join(staging, f".export-{orientation}")
    report = export_model(model, spec, part, formats, images, list(cfg.int8.float_parts), orientation=orientation,
                          num_threads=cfg.num_threads, extra_report=source, latency_runs=0)
    entries = {}
    for fmt, exported in report["files"].items():
        os.rename(os.path.join(part, exported["path"]), os.path.join(staging, exported["path"]))
        parity = exported.get("parity", {})
        entries[exported["path"]] = {
            "role": "model", "format": fmt, "orientation": orientation, "signature": exported["signature"],
            "parity_keypoint_max": _rounded(parity.get("keypoint_max"), 6)}
    schema = os.path.join(staging, model_files.SCHEMA_FILE)
    if not os.path.exists(schema):
        os.rename(os.path.join(part, model_files.SCHEMA_FILE), schema)
        entries[model_files.SCHEMA_FILE] = {"role": "keypoint schema"}
    os.rename(os.path.join(part, REPORT_FILE), os.path.join(staging, EXPORT_REPORTS[orientation]))
    entries[EXPORT_REPORTS[orientation]] = {"role": "export report"}
    shutil.rmtree(part)
    for name, entry in entries.items():
        path = os.path.join(staging, name)
        entry["bytes"] = size_of(path)
        entry["megabytes"] = round(entry["bytes"] / 1e6, 2)
        entry["sha256"] = digest(path)
    return entries


def size_of(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(p) for p in _files_under(path))


def _files_under(folder):
    return sorted(os.path.join(root, f) for root, _, names in os.walk(folder) for f in names)


def digest(path):
    """sha256 of a file; of a folder, the sha256 of its ``sha256sum`` listing: one ``<sha256>  <relative path>``
    line per file, sorted by path (``cd DIR && find . -type f | sort | xargs sha256sum`` without the ``./``)."""
    if os.path.isfile(path):
        return _file_sha256(path)
    lines = [f"{_file_sha256(p)}  {os.path.relpath(p, path).replace(os.sep, '/')}\n" for p in _files_under(path)]
    lines.sort(key=lambda line: line.split("  ", 1)[1])
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _file_sha256(path):
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def runnable(path):
    """What ``load_predictor`` takes for a bundle entry (a TF.js folder: its model.json)."""
    model_json = os.path.join(path, "model.json")
    return model_json if os.path.isfile(model_json) else path


def _check_image(path, calibration):
    """(RGB uint8 image, where it came from) that every file runs on before the bundle is finished."""
    import numpy as np

    if path is not None:
        from movenet_train.preprocessing import load_rgb

        return load_rgb(str(path)), os.path.abspath(str(path))
    if calibration is not None and len(calibration):
        return calibration[0], "the first calibration image"
    return np.random.default_rng(0).integers(0, 256, [256, 256, 3], np.uint8), "random pixels (seed 0)"


def check_file(path, image, spec, num_threads=None):
    """Loads ``path`` through ``load_predictor`` and runs it on ``image``: its output must be the released
    ``[1, 1, K, 3]`` with finite coordinates and scores in [0, 1]; returns what it gave."""
    import numpy as np

    from movenet_train.preprocessing import model_input
    from movenet_train.runtime import load_predictor

    predictor = load_predictor(runnable(path), num_threads=num_threads)
    size = predictor.input_size or spec.input_size
    output = np.asarray(predictor(model_input(image, size, size)[None]))
    expected = (1, 1, spec.schema.num_keypoints, 3)
    if output.shape != expected or not np.isfinite(output).all() or not (
            (output[..., 2] >= 0).all() and (output[..., 2] <= 1).all()):
        raise RuntimeError(f"{path}, loaded through load_predictor ({predictor.kind}), gave an output of shape "
                           f"{list(output.shape)} (expected {list(expected)}, finite, scores in [0, 1]); the bundle "
                           "was not written")
    return {"runtime": predictor.kind, "output_shape": list(output.shape),
            "mean_score": round(float(output[..., 2].mean()), DIGITS)}


# -- what the card says about the model -----------------------------------------------------------------------

def model_details(spec, checkpoint, checkpoint_sha256, card_options):
    schema = spec.schema
    version = card_options.get("version")
    commit = _git_commit()
    return {
        "name": card_options.get("name") or f"MoveNet {spec.name} ({_run_name(checkpoint)})",
        "variant": spec.name,
        "alpha": spec.alpha,
        "input_size": spec.input_size,
        "quantization_aware": bool(spec.qat),
        "keypoints": {"name": schema.name, "names": list(schema.names)},
        "checkpoint": os.path.abspath(checkpoint),
        "checkpoint_format": model_files.file_format(checkpoint),
        "checkpoint_sha256": checkpoint_sha256,
        "version": version or _project_version() + (f" (git {commit})" if commit else ""),
        "owners": card_options.get("owners"),
        "created": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _run_name(checkpoint):
    path = os.path.normpath(os.path.abspath(checkpoint))
    if os.path.basename(path) == model_files.MODEL_DIR:
        path = os.path.dirname(path)
    return os.path.basename(path)


def _project_version():
    try:
        return importlib.metadata.version("movenet-train")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _git_commit():
    """The checkout's commit, with ``+changes`` when the tree differs from it; None outside a git checkout."""
    if not os.path.exists(os.path.join(REPO, ".git")):  # an installed package, not a checkout
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=10)
        if head.returncode:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=30)
        return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _calibration_source(calibration):
    for key in ("records", "annotations", "images"):
        if calibration.get(key):
            return {key: str(calibration[key])}
    return None


# Keys of a run's train_config.yaml that the card's "Training data and recipe" lists, in this order.
RECIPE_KEYS = ("model.name", "model.alpha", "model.input_size", "keypoints.name", "checkpoint", "model.init",
               "data.name", "data.train_records", "data.sources", "data.num_train_images", "train.steps",
               "train.batch_size", "train.optimizer.type", "train.optimizer.learning_rate",
               "train.optimizer.warmup_steps", "train.optimizer.weight_decay", "train.ema_decay", "train.freeze",
               "train.freeze_batch_norm", "train.teacher", "train.distill.weight",
               "train.distill.ground_truth_weight", "train.qat", "seed")


def training_recipe(checkpoint):
    """{config file, recipe: {key: value}} from the run's ``train_config.yaml`` (beside the checkpoint, or up to
    two folders above it); None where there is none (an imported or released model)."""
    if model_files.file_format(checkpoint) != "checkpoint":
        return None
    from omegaconf import OmegaConf

    folder = os.path.abspath(str(checkpoint))
    for _ in range(3):
        path = os.path.join(folder, model_files.TRAIN_CONFIG_FILE)
        if os.path.isfile(path):
            cfg = OmegaConf.load(path)
            recipe = {}
            for key in RECIPE_KEYS:
                value = OmegaConf.select(cfg, key, default=None, throw_on_resolution_failure=False)
                if value is None:
                    continue
                if OmegaConf.is_config(value):
                    value = OmegaConf.to_container(value, resolve=False)
                recipe[key] = value
            return {"config_file": path, "recipe": recipe}
        folder = os.path.dirname(folder)
    return None


# -- evaluation and latency -----------------------------------------------------------------------------------

def _rounded(value, digits=DIGITS):
    """A JSON-safe rounded float; None for None and NaN."""
    if value is None or value != value:
        return None
    return round(float(value), digits)


def _label(path, taken):
    """A reference's name in the card: its file or run folder name, primed where two would read the same."""
    label = _run_name(path)
    while label in taken:
        label += "'"
    return label


def evaluate_files(models, references, options, spec, num_threads=None):
    """COCO keypoint AP of each bundle file (``models``: {name: path}) and each reference ({label: path}) on the
    same people (``run_evaluation``), and each file minus each reference with its paired bootstrap interval
    (``compare.paired``)."""
    from movenet_train.checkpoints import sha256_of
    from movenet_train.evaluation import compare
    from movenet_train.evaluation.evaluator import run_evaluation
    from movenet_train.runtime import load_predictor

    def evaluate(path):
        predictor = load_predictor(runnable(path), num_threads=num_threads)
        model_files.check_compatible(path, predictor, spec.schema)
        return run_evaluation(predictor, annotations=options["annotations"], images=options["images"],
                              protocol=options["protocol"], crop_scale=options["crop_scale"],
                              batch_size=options["batch_size"], progress=False, orientation_slices=False)

    def figures(evaluation):
        metrics = evaluation.metrics
        return {**{k: _rounded(metrics[k]) for k in AP_KEYS}, "num_images": metrics["num_images"],
                "num_people": metrics["num_people"]}

    reference_figures, reference_runs = {}, {}
    for label, path in references.items():
        reference_runs[label] = evaluate(path)
        reference_figures[label] = {"path": os.path.abspath(path), "sha256": sha256_of(path),
                                    **figures(reference_runs[label])}
    files = {}
    first = None
    for name, path in models.items():
        run = evaluate(path)
        first = first or run
        files[name] = figures(run)
        files[name]["versus"] = {}
        for label, reference in reference_runs.items():
            paired = compare.paired(reference, run, options["resamples"], options["seed"])
            files[name]["versus"][label] = {k: _rounded(paired[k]) for k in ("difference", "low", "high")}
    return {"protocol": options["protocol"], "annotations": options["annotations"], "images": options["images"],
            "crop_scale": options["crop_scale"], "num_images": first.metrics["num_images"],
            "num_people": first.metrics["num_people"], "evaluator": first.metrics.get("evaluator"),
            "bootstrap": {"resamples": options["resamples"], "seed": options["seed"], "confidence": 0.95},
            "references": reference_figures, "files": files}


def machine():
    """The machine latency was measured on: CPU model, logical CPUs, physical cores, platform, LiteRT version."""
    model, cores = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            block = {}
            for line in list(f) + [""]:
                if not line.strip():
                    if "core id" in block:
                        cores.add((block.get("physical id"), block["core id"]))
                    block = {}
                    continue
                key, _, value = line.partition(":")
                block[key.strip()] = value.strip()
                if key.strip() == "model name":
                    model = value.strip()
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        litert = importlib.metadata.version("ai-edge-litert")
    except importlib.metadata.PackageNotFoundError:
        litert = None
    return {"cpu_model": model, "logical_cpus": os.cpu_count(), "usable_cpus": usable,
            "physical_cores": len(cores) or None, "platform": platform.platform(), "litert": litert}


def _load_average():
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def measure_latency(models, references, options, image, image_source):
    """Median ms of every ``.tflite`` file of the bundle (``models``: {name: path}) and of the ``.tflite``
    references ({label: path}), per thread count (``export.report.latency``: image in, keypoints out through
    ``load_predictor``, the files of one input size taking turns in short rounds)."""
    from movenet_train.export.report import latency
    from movenet_train.preprocessing import model_input
    from movenet_train.runtime import load_predictor

    timed = {("files", name): path for name, path in models.items() if path.endswith(".tflite")}
    timed.update({("references", label): path for label, path in references.items() if path.endswith(".tflite")})
    result = {"machine": machine(), "runs": options["runs"], "warmup": options["warmup"],
              "threads": options["threads"], "image": image_source, "load_average_start": _load_average(),
              "files": {}, "references": {}}
    for threads in options["threads"]:
        predictors = {key: load_predictor(path, num_threads=threads) for key, path in timed.items()}
        for size in sorted({p.input_size for p in predictors.values()}):
            keys = [key for key, p in predictors.items() if p.input_size == size]
            times = latency([predictors[key] for key in keys], model_input(image, size, size)[None],
                            options["runs"], options["warmup"])
            for (group, name), figures in zip(keys, times):
                result[group].setdefault(name, {})[str(threads)] = _rounded(figures["median_ms"], MS_DIGITS)
    result["load_average_end"] = _load_average()
    return result


def summary(metrics, output):
    """What the command prints: the bundle's files, and where the card and the figures are."""
    lines = [f"{metrics['model']['name']}: release bundle written to {output}"]
    evaluation, latency = metrics.get("evaluation"), metrics.get("latency")
    for name, entry in metrics["files"].items():
        if entry["role"] != "model":
            continue
        line = f"  {name:<36} {entry['megabytes']:7.2f} MB"
        if evaluation:
            line += f"  AP {card.ap(evaluation['files'][name]['AP'])}"
        if latency and name in latency["files"]:
            line += "  " + " / ".join(card.milliseconds(ms) for ms in latency["files"][name].values()) + " ms"
        lines.append(line)
    for fmt, why in metrics.get("left_out", {}).items():
        lines.append(f"  {fmt} left out: {why}")
    unevaluated = "" if evaluation else " (not evaluated: no evaluation.annotations)"
    lines.append(f"  {CARD_FILE}, {METRICS_FILE}{unevaluated}")
    return "\n".join(lines)

"""``python -m movenet_train.predict``: keypoints.json and annotated media for an image, folder, video or GIF.

Videos and GIFs run through ``PoseTracker`` (crop from the previous frame, One Euro smoothing, with the
clip's timestamps). Still images are independent: each runs on the whole letterboxed image, as eval does.
"""

import json
import logging
import os

from omegaconf import OmegaConf
from tqdm import tqdm

from movenet_train.atomic import atomic_path
from movenet_train.keypoints import COCO_17
from movenet_train.model_files import check_compatible, config_schema, config_spec
from movenet_train.modeling.outputs import DRAW_KEYPOINT_THRESHOLD
from movenet_train.runtime import load_predictor
from movenet_train.tracking import media
from movenet_train.tracking.tracker import PoseTracker, TrackerConfig
from movenet_train.visualization import draw_box, draw_skeleton

logger = logging.getLogger(__name__)

KEYPOINTS_FILE = "keypoints.json"


def pose_record(pose, names=COCO_17.names):
    """JSON of one pose: keypoints in pixels of the original frame, named by the model's keypoint schema."""
    return {
        "score": round(float(pose.score), 4),
        "keypoints": [
            {"name": name, "x": round(float(x), 2), "y": round(float(y), 2), "score": round(float(s), 4)}
            for name, (y, x), s in zip(names, pose.keypoints, pose.scores)
        ],
    }


def draw_poses(image, poses, threshold=DRAW_KEYPOINT_THRESHOLD, schema=None):
    for pose in poses:
        image = draw_skeleton(image, pose.keypoints, pose.scores, threshold, schema)
    return image


def _annotated_paths(reader, output_dir):
    """(input path, output path) of each annotated file: one video/GIF, or one image per input image."""
    if isinstance(reader, media.ImagesReader):
        return [(p, os.path.join(output_dir, os.path.basename(p))) for p in reader.paths]
    extension = ".gif" if isinstance(reader, media.GifReader) else ".mp4"  # any video is re-encoded as MP4
    stem = os.path.splitext(os.path.basename(reader.path))[0]
    return [(reader.path, os.path.join(output_dir, stem + extension))]


def _check_outputs(paths, overwrite):
    for source, target in paths:
        if source and os.path.abspath(source) == os.path.abspath(target):
            raise ValueError(f"output {target} would overwrite its input; choose another output directory")
        if os.path.exists(target) and not overwrite:
            raise FileExistsError(f"{target} exists; pass overwrite=true to replace it")


def annotate(predictor, reader, output_dir, tracker_config=TrackerConfig(), crop=True, smoothing=True,
             threshold=DRAW_KEYPOINT_THRESHOLD, draw_crop=False, overwrite=False, progress=True):
    """Runs ``predictor`` over ``reader`` (``media.open_media``); writes keypoints.json and annotated media.

    Returns the keypoints.json content. ``threshold``: keypoints scoring below it are not drawn (they stay
    in the JSON). ``draw_crop``: also draw the region each frame was cropped to.
    """
    annotated = _annotated_paths(reader, output_dir)
    keypoints_path = os.path.join(output_dir, KEYPOINTS_FILE)
    _check_outputs(annotated + [(None, keypoints_path)], overwrite)
    os.makedirs(output_dir, exist_ok=True)

    stills = isinstance(reader, media.ImagesReader)
    tracker = PoseTracker(predictor, tracker_config, crop=crop and not stills, smoothing=smoothing and not stills)
    frames = []
    writer = None if stills else media.MediaWriter(annotated[0][1], reader.fps)
    try:
        for index, frame in enumerate(tqdm(reader, total=reader.num_frames, unit="frame", disable=not progress,
                                           desc=os.path.basename(annotated[0][0]) if not stills else "images")):
            if stills:
                tracker.reset()
            poses = tracker(frame.image, frame.timestamp)
            image = draw_poses(frame.image, poses, threshold, tracker.schema)
            if draw_crop and tracker.crop:
                image = draw_box(image, tracker.last_region.to_pixels(*frame.image.shape[:2]))
            if stills:
                media.write_image(annotated[index][1], image)
            else:
                writer.write(image)
            frames.append({"index": index, "file": frame.name, "timestamp": round(frame.timestamp, 6),
                           "height": frame.image.shape[0], "width": frame.image.shape[1],
                           "poses": [pose_record(p, tracker.schema.names) for p in poses]})
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.discard()
        raise

    result = {
        "input": os.path.abspath(reader.path),
        "model": {"kind": predictor.kind, "multi_pose": predictor.multi_pose, "input_size": predictor.input_size},
        "crop": tracker.crop,
        "smoothing": tracker.smoothing,
        "fps": reader.fps,
        "keypoint_names": list(tracker.schema.names),
        "frames": frames,
    }
    _write_json(keypoints_path, result)
    return result


def _write_json(path, content):
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(content, f, indent=1)


def predict(cfg):
    """The ``predict`` entry point: the input is opened first, so an undecodable file fails before the model loads."""
    reader = media.open_media(cfg.input)
    predictor = load_predictor(cfg.checkpoint, config_spec(cfg), num_threads=cfg.get("num_threads"))
    check_compatible(cfg.checkpoint, predictor, config_schema(cfg))
    tracker_config = TrackerConfig.from_config(OmegaConf.to_container(cfg.tracking, resolve=True))
    result = annotate(predictor, reader, cfg.output, tracker_config, crop=cfg.crop, smoothing=cfg.smoothing,
                      threshold=cfg.threshold, draw_crop=cfg.draw_crop, overwrite=cfg.overwrite)
    found = sum(bool(f["poses"]) for f in result["frames"])
    logger.info("%d frames, a pose in %d; wrote %s", len(result["frames"]), found,
                os.path.join(cfg.output, KEYPOINTS_FILE))
    return result

"""keypoints.json and annotated media for an image, folder, video or GIF (``python -m movenet_train.predict``).

Videos and GIFs of single-pose models run through ``PoseTracker`` (crop from the previous frame, One Euro
smoothing, with the clip's timestamps), those of MultiPose models through ``MultiPoseTracker`` (track ids and
per-track smoothing, as TF.js). Still images are independent: each runs on the whole image.
"""

import json
import os

from tqdm import tqdm

from movenet_train.atomic import atomic_path
from movenet_train.errors import UserError
from movenet_train.modeling.outputs import DRAW_KEYPOINT_THRESHOLD
from movenet_train.tracking import media
from movenet_train.tracking.multi_pose import MultiPoseTracker
from movenet_train.tracking.tracker import PoseTracker
from movenet_train.visualization import draw_box, draw_label, draw_skeleton, track_color


KEYPOINTS_FILE = "keypoints.json"


def pose_record(pose, names):
    """JSON of one pose: keypoints in pixels of the original frame, named by the model's keypoint schema; a
    MultiPose pose also has its track ``id`` (null without a tracker) and ``box``."""
    record = {} if pose.box is None else {"id": pose.id}
    record["score"] = round(float(pose.score), 4)
    if pose.box is not None:
        record["box"] = {key: round(float(v), 2) for key, v in zip(("yMin", "xMin", "yMax", "xMax"), pose.box)}
    record["keypoints"] = [
        {"name": name, "x": round(float(x), 2), "y": round(float(y), 2), "score": round(float(s), 4)}
        for name, (y, x), s in zip(names, pose.keypoints, pose.scores)
    ]
    return record


def draw_poses(image, poses, threshold=DRAW_KEYPOINT_THRESHOLD, *, schema):
    """Skeletons; a tracked MultiPose pose also gets its box and ``id N`` in a colour that stays with the id."""
    for pose in poses:
        image = draw_skeleton(image, pose.keypoints, pose.scores, threshold, schema=schema)
        if pose.id is not None:
            color = track_color(pose.id)
            image = draw_box(image, pose.box, color)
            image = draw_label(image, f"id {pose.id}", (pose.box[0], pose.box[1]), color)
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
            raise UserError(f"output {target} would overwrite its input; choose another output directory")
        if os.path.exists(target) and not overwrite:
            raise FileExistsError(f"{target} exists; pass overwrite=true to replace it")


def annotate(predictor, reader, output_dir, tracker_config=None, crop=True, smoothing=True,
             threshold=DRAW_KEYPOINT_THRESHOLD, draw_crop=False, overwrite=False, progress=True,
             tracker_name="bounding_box"):
    """Runs ``predictor`` over ``reader`` (``media.open_media``); writes keypoints.json and annotated media.

    Returns the keypoints.json content. ``threshold``: keypoints scoring below it are not drawn (they stay
    in the JSON). ``draw_crop``: also draw the region each frame was cropped to. ``tracker_name``: MultiPose
    videos' id tracker (``bounding_box``, ``keypoint`` or ``none``).
    """
    annotated = _annotated_paths(reader, output_dir)
    keypoints_path = os.path.join(output_dir, KEYPOINTS_FILE)
    _check_outputs(annotated + [(None, keypoints_path)], overwrite)
    os.makedirs(output_dir, exist_ok=True)

    stills = isinstance(reader, media.ImagesReader)
    if predictor.multi_pose:
        tracker = MultiPoseTracker(predictor, tracker_config, tracker=tracker_name if not stills else "none",
                                   smoothing=smoothing and not stills)
    else:
        tracker = PoseTracker(predictor, tracker_config, crop=crop and not stills, smoothing=smoothing and not stills)
    frames = []
    writer = None if stills else media.MediaWriter(annotated[0][1], reader.fps)
    try:
        for index, frame in enumerate(tqdm(reader, total=reader.num_frames, unit="frame", disable=not progress,
                                           desc=os.path.basename(annotated[0][0]) if not stills else "images")):
            if stills:
                tracker.reset()
            timestamp_ms = frame.timestamp * 1000.0
            poses = tracker(frame.image, timestamp_ms) if predictor.multi_pose else tracker(frame.image, frame.timestamp)
            image = draw_poses(frame.image, poses, threshold, schema=tracker.schema)
            if draw_crop and tracker.crop:
                image = draw_box(image, tracker.last_region.to_pixels(*frame.image.shape[:2]))
            if stills:
                media.write_image(annotated[index][1], image)
            else:
                writer.write(image)
            frames.append({"frame": index, "file": frame.name, "timestamp_ms": round(timestamp_ms, 3),
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
        "tracker": tracker.tracker_name if predictor.multi_pose else None,
        "fps": reader.fps,
        "keypoint_names": list(tracker.schema.names),
        "frames": frames,
    }
    _write_json(keypoints_path, result)
    return result


def _write_json(path, content):
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(content, f, indent=1)

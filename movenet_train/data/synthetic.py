"""A synthetic person-keypoint set: procedurally posed figures written as COCO JSON + JPEGs.

Each figure is a 17-joint skeleton with human proportions and joint angles inside plausible ranges, drawn
as filled limbs. The colours make every keypoint findable: left limbs in warm colours and right limbs in cool
ones (so left/right is learnable), a distinct colour per limb segment (so joints are colour junctions), a
face with nose, eyes and ears marked in their side's colour. One main person stands near the centre (what
single-pose models are trained for); some images add smaller people around them. Backgrounds vary (flat,
gradients, clutter) but stay muted so the figures stand out.

``ensure_synthetic_dataset`` generates a train and a held-out val split and converts them with the same
code as ``data/prepare_coco.py``: this is the quickstart's dataset and the one the tests train on.
"""

import dataclasses
import json
import logging
import math
import os
import typing

import numpy as np
from PIL import Image, ImageDraw

from movenet_train.atomic import atomic_path, staging_folder
from movenet_train.config import JPEG_QUALITY, config_from
from movenet_train.errors import UserError

log = logging.getLogger(__name__)

GENERATOR_VERSION = 1  # bump when the drawing changes, so cached datasets are regenerated
MARKER_FILE = "synthetic.json"

# Lengths as fractions of the standing height (head top to ankle).
BODY = dict(shoulder_width=0.23, hip_width=0.16, torso=0.30, neck=0.05, head_radius=0.065, upper_arm=0.16,
            forearm=0.15, thigh=0.23, shin=0.22, limb_width=0.045, torso_width=0.2)

# Colour of each limb segment: warm on the person's left, cool on their right, one colour per segment.
LEFT, RIGHT = "left", "right"
LIMB_COLOURS = {
    ("left_shoulder", "left_elbow"): (220, 30, 30),
    ("left_elbow", "left_wrist"): (255, 150, 0),
    ("left_hip", "left_knee"): (200, 0, 160),
    ("left_knee", "left_ankle"): (255, 110, 190),
    ("right_shoulder", "right_elbow"): (20, 60, 230),
    ("right_elbow", "right_wrist"): (0, 200, 235),
    ("right_hip", "right_knee"): (0, 150, 60),
    ("right_knee", "right_ankle"): (130, 230, 50),
}
SIDE_MARK = {LEFT: (200, 0, 0), RIGHT: (0, 0, 200)}
# The joints a figure is drawn with (COCO's 17), in the order of its points; schema_points labels them.
FIGURE_JOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)
# Joints a keypoint schema may add to the drawn ones, as midpoints of two of them.
DERIVED_JOINTS = {"neck": ("left_shoulder", "right_shoulder"), "pelvis": ("left_hip", "right_hip")}
TORSO_COLOUR = (245, 235, 140)
SKIN = (250, 215, 175)


@dataclasses.dataclass(frozen=True)
class GeneratorConfig:
    """``cfg.data.generator`` (configs/data/synthetic.yaml)."""

    DEFAULTS: typing.ClassVar = ("data/synthetic.yaml", "generator")  # the defaults' one home, under configs/
    RANGES: typing.ClassVar = {"jpeg_quality": JPEG_QUALITY}

    seed: int
    image_size: tuple
    person_height: tuple
    extra_people: tuple
    jpeg_quality: int

    @classmethod
    def from_config(cls, cfg):
        return config_from(cls, cfg, "data.generator")


def _rot(angle):
    """Unit vector at ``angle`` radians from straight down (image coordinates, y down), counter-clockwise."""
    return np.array([math.sin(angle), math.cos(angle)])  # (x, y)


def pose_skeleton(rng, height):
    """``FIGURE_JOINTS`` (x, y) of a front-facing figure standing at the origin (hip midpoint), ``height`` pixels
    tall.

    The person's left is on the image's right. Joint angles: torso lean, shoulder and hip swing, elbow and knee
    bends, all within ranges a person reaches.
    """
    b = {k: v * height for k, v in BODY.items()}
    lean = rng.normal(0, 0.15) + (rng.uniform(-0.9, 0.9) if rng.random() < 0.1 else 0.0)  # sometimes a bend
    up = -_rot(lean)  # from hips to shoulders
    across = np.array([-up[1], up[0]])  # towards the person's left: the image's right when upright
    hip_mid = np.zeros(2)
    shoulder_mid = hip_mid + up * b["torso"]
    kp = {}
    kp["left_hip"], kp["right_hip"] = hip_mid + across * b["hip_width"] / 2, hip_mid - across * b["hip_width"] / 2
    kp["left_shoulder"] = shoulder_mid + across * b["shoulder_width"] / 2
    kp["right_shoulder"] = shoulder_mid - across * b["shoulder_width"] / 2
    head = shoulder_mid + up * (b["neck"] + b["head_radius"])
    turn = rng.uniform(-0.45, 0.45)  # head yaw: shifts the face towards one side
    r = b["head_radius"]
    face = head + across * turn * r * 0.6
    kp["nose"] = face - up * r * 0.15
    kp["left_eye"], kp["right_eye"] = face + up * r * 0.3 + across * r * 0.38, face + up * r * 0.3 - across * r * 0.38
    kp["left_ear"] = head + up * r * 0.1 + across * r * (1.0 - max(turn, 0) * 0.5)
    kp["right_ear"] = head + up * r * 0.1 - across * r * (1.0 + min(turn, 0) * 0.5)

    body_angle = lean  # of "down" along the body
    for side, sign in ((LEFT, 1.0), (RIGHT, -1.0)):
        # Arms: swing from hanging (0) out to overhead (~pi); elbows bend one way.
        swing = rng.uniform(-0.3, 2.9) if rng.random() < 0.85 else rng.uniform(-0.6, 3.1)
        shoulder_angle = body_angle + sign * swing
        elbow = kp[f"{side}_shoulder"] + _rot(shoulder_angle) * b["upper_arm"]
        bend = rng.uniform(-1.2, 2.3)
        wrist = elbow + _rot(shoulder_angle + sign * bend) * b["forearm"]
        kp[f"{side}_elbow"], kp[f"{side}_wrist"] = elbow, wrist
        # Legs: mostly standing, sometimes lifted out to the side or stepping.
        hip_swing = rng.uniform(-0.15, 0.5) if rng.random() < 0.8 else rng.uniform(-0.3, 1.6)
        hip_angle = body_angle + sign * hip_swing
        knee = kp[f"{side}_hip"] + _rot(hip_angle) * b["thigh"]
        knee_bend = rng.uniform(0.0, 0.6) if rng.random() < 0.75 else rng.uniform(0.6, 2.0)
        ankle = knee + _rot(hip_angle - sign * knee_bend) * b["shin"]
        kp[f"{side}_knee"], kp[f"{side}_ankle"] = knee, ankle
    return np.stack([kp[name] for name in FIGURE_JOINTS]), dict(head=head, radius=r, up=up, across=across,
                                                                 limb_width=b["limb_width"],
                                                                 torso_width=b["torso_width"])


def _capsule(draw, a, b, width, colour, outline):
    """A limb: a thick segment with round ends (and a darker rim so touching limbs stay distinct)."""
    for w, c in ((width + 2, outline), (width, colour)):
        draw.line([tuple(a), tuple(b)], fill=c, width=int(round(w)))
        for p in (a, b):
            draw.ellipse([p[0] - w / 2, p[1] - w / 2, p[0] + w / 2, p[1] + w / 2], fill=c)


def _jitter(rng, colour, amount=18):
    return tuple(min(max(c + d, 0), 255) for c, d in zip(colour, rng.integers(-amount, amount + 1, size=3).tolist()))


def draw_person(draw, mask_draw, rng, keypoints, geometry):
    """Draws one figure on ``draw`` and its silhouette on ``mask_draw`` (for the area)."""
    kp = {name: keypoints[i] for i, name in enumerate(FIGURE_JOINTS)}
    width = geometry["limb_width"]
    outline = (30, 30, 30)
    arms = [("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
            ("right_elbow", "right_wrist")]
    legs = [("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_hip", "right_knee"),
            ("right_knee", "right_ankle")]
    torso = [kp["left_shoulder"], kp["right_shoulder"], kp["right_hip"], kp["left_hip"]]
    for target, colour_of in ((mask_draw, lambda c: 255), (draw, lambda c: _jitter(rng, c))):
        rim = 255 if target is mask_draw else outline
        for a, b in legs:
            _capsule(target, kp[a], kp[b], width * 1.15, colour_of(LIMB_COLOURS[(a, b)]), rim)
        target.polygon([tuple(p) for p in torso], fill=colour_of(TORSO_COLOUR), outline=rim)
        head, r = geometry["head"], geometry["radius"]
        neck_base = (kp["left_shoulder"] + kp["right_shoulder"]) / 2
        _capsule(target, neck_base, head, width * 0.9, colour_of(SKIN), rim)
        target.ellipse([head[0] - r, head[1] - r, head[0] + r, head[1] + r], fill=colour_of(SKIN), outline=rim)
        for a, b in arms:
            _capsule(target, kp[a], kp[b], width, colour_of(LIMB_COLOURS[(a, b)]), rim)
    # Face and ear marks (keypoints sit on them), hands and feet in their side's colour.
    dot = max(r * 0.16, 1.5)
    for name, size in (("left_eye", dot), ("right_eye", dot), ("left_ear", dot * 1.6), ("right_ear", dot * 1.6)):
        p, colour = kp[name], SIDE_MARK[LEFT if name.startswith("left") else RIGHT]
        draw.ellipse([p[0] - size, p[1] - size, p[0] + size, p[1] + size], fill=colour, outline=(0, 0, 0))
    p = kp["nose"]
    draw.polygon([(p[0], p[1] - dot * 1.4), (p[0] - dot, p[1] + dot * 0.8), (p[0] + dot, p[1] + dot * 0.8)],
                 fill=(20, 20, 20))
    for name in ("left_wrist", "right_wrist", "left_ankle", "right_ankle"):
        p, s = kp[name], width * 0.7
        colour = SIDE_MARK[LEFT if name.startswith("left") else RIGHT]
        draw.ellipse([p[0] - s, p[1] - s, p[0] + s, p[1] + s], fill=colour, outline=(0, 0, 0))
        mask_draw.ellipse([p[0] - s, p[1] - s, p[0] + s, p[1] + s], fill=255)


def draw_background(rng, width, height):
    kind = rng.integers(3)
    base = rng.integers(60, 200, size=3)
    if kind == 0:  # flat
        pixels = np.broadcast_to(base, (height, width, 3)).astype(np.float32)
    elif kind == 1:  # gradient
        other = rng.integers(60, 200, size=3)
        t = np.linspace(0, 1, height)[:, None, None] if rng.random() < 0.5 else np.linspace(0, 1, width)[None, :, None]
        pixels = np.broadcast_to(base * (1 - t) + other * t, (height, width, 3)).astype(np.float32)
    else:  # clutter: muted rectangles and ellipses
        image = Image.new("RGB", (width, height), tuple(int(c) for c in base))
        draw = ImageDraw.Draw(image)
        for _ in range(rng.integers(3, 10)):
            x0, y0 = rng.integers(0, width), rng.integers(0, height)
            x1, y1 = x0 + rng.integers(10, width // 2), y0 + rng.integers(10, height // 2)
            colour = tuple(int(c) for c in np.clip(base + rng.integers(-50, 51, size=3), 0, 255))
            (draw.rectangle if rng.random() < 0.5 else draw.ellipse)([x0, y0, x1, y1], fill=colour)
        pixels = np.asarray(image, np.float32)
    if rng.random() < 0.5:  # sensor-like noise
        pixels = pixels + rng.standard_normal(pixels.shape, dtype=np.float32) * rng.uniform(1, 6)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def schema_points(keypoints, schema):
    """``[17, 2]`` points of a figure (``FIGURE_JOINTS``) -> ``[N, 2]`` in the schema's order (derived joints
    added)."""
    index = dict(zip(FIGURE_JOINTS, range(len(FIGURE_JOINTS))))
    points = []
    for name in schema.names:
        if name in index:
            points.append(keypoints[index[name]])
        elif name in DERIVED_JOINTS:
            a, b = DERIVED_JOINTS[name]
            points.append((keypoints[index[a]] + keypoints[index[b]]) / 2)
        else:
            raise UserError(f"{schema.source}: keypoints.names: the synthetic generator cannot label {name!r}; it "
                            f"draws the COCO joints and {sorted(DERIVED_JOINTS)}")
    return np.stack(points)


def render_image(rng, config, schema):
    """One image and its people: (PIL image, list of (keypoints [N, 3] x,y,v, bbox [x, y, w, h], area)).

    The figures are drawn from COCO's 17 joints; ``schema`` picks (and derives) the joints they are labelled with.
    """
    width, height = (int(rng.integers(config.image_size[0], config.image_size[1] + 1)) for _ in range(2))
    image = draw_background(rng, width, height)
    extra = rng.choice(len(config.extra_people) + 1, p=[1 - sum(config.extra_people), *config.extra_people])
    # Extras first (behind), smaller and off-centre; then the main person near the centre.
    placements = []
    for _ in range(extra):
        side = rng.choice([-1, 1])
        placements.append((rng.uniform(0.3, 0.55) * height, width / 2 + side * rng.uniform(0.25, 0.6) * width,
                           rng.uniform(0.35, 0.65) * height))
    main_height = rng.uniform(*config.person_height) * height
    placements.append((main_height, width / 2 + rng.normal(0, 0.06) * width,
                       height / 2 - main_height * 0.1 + rng.normal(0, 0.04) * height))  # keypoint mean: upper torso
    draw = ImageDraw.Draw(image)
    people = []
    for person_height, cx, cy in placements:
        keypoints, geometry = pose_skeleton(rng, person_height)
        # Put the figure's own centre (the mean of its keypoints) at (cx, cy).
        shift = np.array([cx, cy]) - keypoints.mean(axis=0)
        keypoints = keypoints + shift
        geometry = dict(geometry, head=geometry["head"] + shift)
        mask = Image.new("L", (width, height), 0)
        draw_person(draw, ImageDraw.Draw(mask), rng, keypoints, geometry)
        people.append((keypoints, np.asarray(mask) > 0))
    annotations = []
    for index, (keypoints, mask) in enumerate(people):
        # Later (nearer) people hide the earlier ones' pixels.
        for _, nearer in people[index + 1:]:
            mask = mask & ~nearer
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            continue
        keypoints = schema_points(keypoints, schema)
        x, y = keypoints[:, 0], keypoints[:, 1]
        inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
        kps = np.zeros((len(keypoints), 3))
        kps[inside, :2] = np.round(keypoints[inside], 2)
        kps[inside, 2] = 2
        if not inside.any():
            continue
        bbox = [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)]
        annotations.append((kps, bbox, float(mask.sum())))
    return image, annotations


def generate_synthetic(output, num_images, config, first_image_id=1, *, schema):
    """Writes ``output/images/NNNNNN.jpg`` and ``output/annotations.json`` (COCO person keypoints), the people
    labelled with ``schema``'s joints.

    Returns the annotation file's path. Deterministic for a given config (seed) and ``num_images``.
    """
    rng = np.random.default_rng(config.seed)
    images_dir = os.path.join(output, "images")
    os.makedirs(images_dir, exist_ok=True)
    images, annotations = [], []
    for image_id in range(first_image_id, first_image_id + num_images):
        image, people = render_image(rng, config, schema)
        file_name = f"{image_id:06d}.jpg"
        image.save(os.path.join(images_dir, file_name), "JPEG", quality=config.jpeg_quality)
        images.append({"id": image_id, "file_name": file_name, "width": image.width, "height": image.height})
        for keypoints, bbox, area in people:
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0,
                "bbox": bbox, "area": area, "num_keypoints": int((keypoints[:, 2] > 0).sum()),
                "keypoints": [float(v) if i % 3 < 2 else int(v) for i, v in enumerate(keypoints.reshape(-1))],
            })
    coco = {
        "info": {"description": "MoveNet-train synthetic person keypoints", "version": GENERATOR_VERSION,
                 "generator": dataclasses.asdict(config)},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": "person", "supercategory": "person", "keypoints": list(schema.names),
                        "skeleton": [[a + 1, b + 1] for a, b in schema.skeleton_indices]}],
    }
    path = os.path.join(output, "annotations.json")
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(coco, f)
    return path


def _wanted(data_cfg, config, schema):
    """What the marker file records, as JSON reads it back (lists, not tuples); the schema keeps sets apart."""
    wanted = {"version": GENERATOR_VERSION, "num_train_images": int(data_cfg.num_train_images),
              "num_val_images": int(data_cfg.num_val_images), "generator": dataclasses.asdict(config),
              "keypoints": schema.to_dict()}
    return json.loads(json.dumps(wanted))


def ensure_synthetic_dataset(data_cfg, num_workers=0, progress=True, *, schema):
    """Generates and converts the synthetic set under ``data_cfg.root``, labelled with ``schema``'s joints,
    unless it is there already.

    Writes ``train/`` and ``val/`` (COCO JSON + JPEGs; val is drawn with a different seed, so it is held out)
    and ``records/`` (``train-*.tfrecord``, ``val-*.tfrecord``) in a temporary folder renamed to ``root`` at the
    end. A folder made with other options is regenerated; a non-empty folder this code did not make is an error.
    The small JPEGs convert fast in this process (``num_workers=0``), which also spares a caller that has no
    ``if __name__ == "__main__"`` guard the worker processes' re-import of its script.
    """
    from movenet_train.data.convert import convert_coco

    root = os.path.abspath(data_cfg.root)
    config = GeneratorConfig.from_config(data_cfg.get("generator", {}))
    wanted = _wanted(data_cfg, config, schema)
    marker = os.path.join(root, MARKER_FILE)
    if os.path.exists(marker):
        with open(marker) as f:
            if json.load(f) == wanted:
                return
        log.info("synthetic dataset at %s was made with other options: regenerating", root)
    elif os.path.isdir(root) and os.listdir(root):
        raise FileExistsError(f"data.root {root} is not empty and holds no {MARKER_FILE}: not removing it")

    # Written in a sibling folder renamed to root at the end: an interrupted run leaves no half-made set.
    with staging_folder(root, overwrite=True) as tmp:
        log.info("generating the synthetic dataset (%d train, %d val images) in %s", data_cfg.num_train_images,
                 data_cfg.num_val_images, root)
        splits = (("train", data_cfg.num_train_images, config.seed, 1),
                  ("val", data_cfg.num_val_images, config.seed + 1_000_003, 1_000_001))
        for split, count, seed, first_id in splits:
            annotations = generate_synthetic(os.path.join(tmp, split), count, dataclasses.replace(config, seed=seed),
                                             first_image_id=first_id, schema=schema)
            convert_coco(annotations, os.path.join(tmp, split, "images"), os.path.join(tmp, "records"), split=split,
                         num_workers=num_workers, progress=progress, schema=schema)
        with open(os.path.join(tmp, MARKER_FILE), "w") as f:
            json.dump(wanted, f, indent=2)
    _check_paths(data_cfg)


def _check_paths(data_cfg):
    """The config's record globs and val paths must point into what was generated."""
    import glob

    for key in ("train_records", "val_records"):
        if data_cfg[key] is not None and not glob.glob(data_cfg[key]):  # null val_records: no validation loss
            raise FileNotFoundError(f"data.{key} = {data_cfg[key]} matches nothing after generating {data_cfg.root}")
    for key in ("val_annotations", "val_images"):
        if data_cfg[key] is not None and not os.path.exists(data_cfg[key]):
            raise FileNotFoundError(f"data.{key} = {data_cfg[key]} does not exist after generating {data_cfg.root}")

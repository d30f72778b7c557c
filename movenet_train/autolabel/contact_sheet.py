"""Contact sheets: every labelled person on PNG pages, least confident first, to see at a glance what to fix.

A tile is the person's square (their box, ``crop_scale`` 1.25 as the ``every_person`` crop) with the kept joints
drawn as the skeleton (``visualization.draw_skeleton``: the person's left warm, right cool), the joints below
``min_keypoint_score`` (written as unlabelled, 0 0 0) as grey rings where the model put them, and the person's
score and the file name printed on it. Pages hold ``columns x rows`` tiles; only the first ``max_pages`` are
written, which for long footage are the least confident people: where a reviewer's time pays most.
"""

import os

import cv2
import numpy as np

from movenet_train.evaluation import crops
from movenet_train.tracking.media import write_image
from movenet_train.visualization import draw_label, draw_skeleton, draw_unsure_joints

SHEET_PATTERN = "contact_sheet_{:03d}.png"
BACKGROUND = 255
GAP = 4
LABEL_COLOR = (255, 255, 255)


def tiles(records, load, schema, min_keypoint_score, tile_size):
    """(score, tile) of every person of journal ``records``; ``load(file_name)`` -> RGB image."""
    out = []
    for record in records:
        if "skipped" in record or not record["annotations"]:
            continue
        image = load(record["file_name"])
        for ann, pose in zip(record["annotations"], record["poses"]):
            out.append((ann["score"], person_tile(image, ann, np.asarray(pose), record["file_name"], schema,
                                                  min_keypoint_score, tile_size)))
    return out


def person_tile(image, ann, pose, name, schema, min_keypoint_score, tile_size):
    """One tile: the person's square resized to ``tile_size``, joints drawn, score and ``name`` printed."""
    top, left, side = crops.person_square(ann["bbox"], 1.25, *image.shape[:2])
    scale = tile_size / side
    tile = cv2.resize(crops.crop_square(image, top, left, side), (tile_size, tile_size), interpolation=cv2.INTER_AREA)
    yx = (pose[:, :2] - [top, left]) * scale
    tile = draw_skeleton(tile, yx, pose[:, 2], min_keypoint_score, schema=schema)
    tile = draw_unsure_joints(tile, yx, pose[:, 2], min_keypoint_score)
    tile = draw_label(tile, f"{ann['score']:.2f}", (0, 0), LABEL_COLOR)
    return draw_label(tile, os.path.basename(name), (tile_size, 0), LABEL_COLOR)


def pages(scored_tiles, columns, rows, max_pages):
    """The tiles, lowest score first, laid out ``columns x rows`` per page: at most ``max_pages`` RGB pages."""
    ordered = [tile for _, tile in sorted(scored_tiles, key=lambda item: item[0])]
    per_page = columns * rows
    out = []
    for start in range(0, min(len(ordered), per_page * max_pages), per_page):
        page_tiles = ordered[start:start + per_page]
        size = page_tiles[0].shape[0]
        used_rows = (len(page_tiles) + columns - 1) // columns
        page = np.full((used_rows * (size + GAP) + GAP, columns * (size + GAP) + GAP, 3), BACKGROUND, np.uint8)
        for index, tile in enumerate(page_tiles):
            y, x = GAP + (index // columns) * (size + GAP), GAP + (index % columns) * (size + GAP)
            page[y:y + size, x:x + size] = tile
        out.append(page)
    return out


def write_contact_sheets(records, load, schema, output_dir, min_keypoint_score, tile_size=224, columns=6, rows=5,
                         max_pages=20):
    """Writes ``contact_sheet_NNN.png`` pages into ``output_dir`` (each atomically); returns their paths."""
    paths = []
    for number, page in enumerate(pages(tiles(records, load, schema, min_keypoint_score, tile_size), columns, rows,
                                        max_pages), start=1):
        paths.append(os.path.join(output_dir, SHEET_PATTERN.format(number)))
        write_image(paths[-1], page)
    return paths

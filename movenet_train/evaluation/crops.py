"""The person crop of ``crop=person``: a square around the ground-truth box, zero outside the image.

Google's benchmark subset was "filtered and cropped to contain one person"; this reproduces that cut with the
box the annotation gives. The crop is cut in whole pixels and then goes through the same
``preprocessing.letterbox`` as a whole image (on a square it is a plain bilinear resize), so there is one
resize path and ``preprocessing.unletterbox`` maps predictions back, shifted by the crop's corner.
"""

import math

import numpy as np


def person_square(box, scale, image_height, image_width):
    """(top, left, side) in pixels of the square centred on a COCO ``box`` [x, y, w, h], side ``scale * max(w, h)``.

    The side is at least one pixel; the square may reach past the image (the crop pads with zeros there).
    """
    x, y, w, h = (float(v) for v in box)
    if not (w > 0 or h > 0):  # degenerate box: fall back to the whole image
        x, y, w, h = 0.0, 0.0, float(image_width), float(image_height)
    side = max(1, _round_half_up(scale * max(w, h)))
    return _round_half_up(y + h / 2 - side / 2), _round_half_up(x + w / 2 - side / 2), side


def _round_half_up(value):
    return math.floor(value + 0.5)  # not round(): banker's rounding would move .5 corners both ways


def crop_square(image, top, left, side):
    """``image[top:top+side, left:left+side]`` of an ``[H, W, C]`` array, zero where the square leaves the image."""
    height, width = image.shape[:2]
    out = np.zeros((side, side) + image.shape[2:], image.dtype)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + side, height), min(left + side, width)
    if y1 > y0 and x1 > x0:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = image[y0:y1, x0:x1]
    return out

"""Image decoding and letterboxing shared by eval, predict, export calibration and the tests."""

import numpy as np
from PIL import Image, ImageOps

from movenet_train.errors import UserError


def load_rgb(path):
    """RGB uint8 ``[H, W, 3]``; EXIF orientation applied, grayscale / CMYK / alpha converted."""
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            return np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        raise
    except Exception as err:  # PIL raises several types for undecodable files
        raise UserError(f"cannot decode image {path}: {err}") from err


def letterbox(images, height, width):
    """``tf.image.resize_with_pad`` (bilinear, centred zero padding) of ``[B,H,W,3]``, float32 0-255."""
    import tensorflow as tf  # here, not at the top: decoding an image (media, autolabel's rerun) needs none

    return tf.image.resize_with_pad(tf.cast(images, tf.float32), height, width)


def model_input(image, height, width):
    """Letterboxed uint8 ``[height, width, 3]`` of one RGB image: what every runtime is fed.

    The float image is truncated (``tf.cast``), as the reference protocol did for both int32 (TF, TF.js) and
    uint8 (TFLite) inputs; both give the same values.
    """
    import tensorflow as tf

    return tf.cast(letterbox(image[None], height, width), tf.int32)[0].numpy().astype(np.uint8)


def letterbox_window(image_height, image_width, height, width):
    """(top, left, scaled height, scaled width) of the image inside the letterboxed ``height x width`` input."""
    scale = min(height / image_height, width / image_width)
    scaled_h, scaled_w = image_height * scale, image_width * scale
    return (height - scaled_h) / 2.0, (width - scaled_w) / 2.0, scaled_h, scaled_w


def unletterbox(yx, image_height, image_width, height, width):
    """Normalised (y, x) over the letterboxed input -> pixels of the original image. ``yx``: ``[..., 2]``."""
    top, left, scaled_h, scaled_w = letterbox_window(image_height, image_width, height, width)
    y = (yx[..., 0] * height - top) / scaled_h * image_height
    x = (yx[..., 1] * width - left) / scaled_w * image_width
    return np.stack([y, x], axis=-1)

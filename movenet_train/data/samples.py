"""What the model is fed: a grid of pipeline outputs with their targets drawn over them (data/show_samples.py)."""


import numpy as np
from matplotlib import colormaps
from PIL import Image

from movenet_train.atomic import atomic_path
from movenet_train.visualization import draw_skeleton


HEATMAP_OPACITY = 0.6


def _upsample(grid_map, size):
    """Nearest-neighbour upsampling of a ``[h, w]`` map to ``[size, size]``: each cell stays a visible square."""
    repeat = size // grid_map.shape[0]
    return np.repeat(np.repeat(grid_map, repeat, axis=0), repeat, axis=1)


def render_example(image, targets, schema):
    """One input image (float 0-255 ``[S, S, 3]``) with the keypoint heatmaps (max over channels, "inferno"),
    the centre heatmap (green) and the listed people's skeletons; the target person first, drawn last."""
    size = image.shape[0]
    canvas = np.asarray(image, np.float32) / 255.0
    keypoint_heat = _upsample(np.max(targets["keypoint_heatmap"], axis=-1), size)[..., None]
    centre_heat = _upsample(targets["center_heatmap"][..., 0], size)[..., None]
    colours = colormaps["inferno"](keypoint_heat[..., 0])[..., :3]
    canvas = canvas * (1 - HEATMAP_OPACITY * keypoint_heat) + colours * HEATMAP_OPACITY * keypoint_heat
    canvas = canvas * (1 - HEATMAP_OPACITY * centre_heat) + np.array([0.0, 1.0, 0.0]) * HEATMAP_OPACITY * centre_heat
    # Crowd regions and the boxes of unlabelled keypoints are ignored by the loss: darken where all are.
    ignored = _upsample(np.min(targets["keypoint_heatmap_mask"], axis=-1), size)[..., None] < 0.5
    canvas = np.where(ignored, canvas * 0.5, canvas)
    canvas = (np.clip(canvas, 0, 1) * 255).astype(np.uint8)
    people = targets["keypoints"][: int(targets["num_valid"])]
    for person in people[::-1]:
        canvas = draw_skeleton(canvas, person[:, :2] * size, (person[:, 2] > 0).astype(np.float32), threshold=0.5,
                               schema=schema)
    return canvas


def render_grid(images, targets, schema, columns=4):
    """``[B, S, S, 3]`` images and their batched targets (NumPy) -> one uint8 grid image."""
    tiles = [render_example(images[i], {k: v[i] for k, v in targets.items()}, schema) for i in range(len(images))]
    size = tiles[0].shape[0]
    rows = -(-len(tiles) // columns)
    grid = np.full((rows * (size + 4), columns * (size + 4), 3), 255, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        grid[r * (size + 4): r * (size + 4) + size, c * (size + 4): c * (size + 4) + size] = tile
    return grid


def save_png(image, path):
    """Writes ``path`` through a temporary file, so a crash never leaves half a PNG."""
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, "PNG")
    return path


def show_samples(data_cfg, spec, output, split="train", training=True, num_images=16, columns=4):
    """Renders ``num_images`` examples of the pipeline (augmented when ``training``) to the PNG ``output``."""
    from movenet_train.data.pipeline import build_dataset

    dataset = build_dataset(data_cfg, spec, split, num_images, training=training, deterministic=True)
    images, targets = next(iter(dataset))
    return save_png(render_grid(images.numpy(), {k: v.numpy() for k, v in targets.items()}, spec.schema, columns),
                    output)

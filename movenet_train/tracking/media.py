"""Frames in and out: images, folders of images, videos (OpenCV) and GIFs (Pillow).

Readers yield RGB uint8 frames with timestamps in seconds, for the tracker's filters. Writers write to a
temporary file beside the target and rename it into place when closed, so an interrupted run leaves no
half-written file under the final name.
"""

import dataclasses
import os

import cv2
import numpy as np
from PIL import Image, ImageSequence

from movenet_train.atomic import atomic_path, temporary_sibling
from movenet_train.errors import UserError
from movenet_train.preprocessing import load_rgb

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm")
GIF_EXTENSIONS = (".gif",)
DEFAULT_GIF_FRAME_MS = 100  # browsers' usual reading of a GIF frame without a duration


@dataclasses.dataclass
class Frame:
    image: np.ndarray  # RGB uint8 [H, W, 3]
    timestamp: float  # seconds from the start of the clip
    name: str  # file the frame came from


def media_kind(path):
    """``folder``, ``image``, ``gif`` or ``video``, from the path; a clear error for anything else."""
    path = str(path)
    if os.path.isdir(path):
        return "folder"
    if not os.path.exists(path):
        raise FileNotFoundError(f"input {path} does not exist")
    extension = os.path.splitext(path)[1].lower()
    for kind, extensions in (("image", IMAGE_EXTENSIONS), ("gif", GIF_EXTENSIONS), ("video", VIDEO_EXTENSIONS)):
        if extension in extensions:
            return kind
    raise UserError(
        f"cannot read {path}: unknown extension {extension!r}; expected an image "
        f"({', '.join(IMAGE_EXTENSIONS)}), a GIF, a video ({', '.join(VIDEO_EXTENSIONS)}) or a folder of images"
    )


def folder_images(path):
    names = sorted(n for n in os.listdir(path) if os.path.splitext(n)[1].lower() in IMAGE_EXTENSIONS)
    if not names:
        raise UserError(f"folder {path} holds no image ({', '.join(IMAGE_EXTENSIONS)})")
    return [os.path.join(path, n) for n in names]


class VideoReader:
    """OpenCV decoding; opening checks that at least one frame decodes."""

    def __init__(self, path):
        self.path = str(path)
        self.capture = cv2.VideoCapture(self.path)
        ok, first = self.capture.read() if self.capture.isOpened() else (False, None)
        if not ok:
            self.capture.release()
            raise UserError(f"cannot decode video {self.path}: OpenCV could not read a frame from it")
        self._first = first
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and np.isfinite(fps) and fps > 0 else 30.0  # some containers do not store a rate
        self.num_frames = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None

    def __iter__(self):
        name = os.path.basename(self.path)
        index, frame = 0, self._first
        try:
            while frame is not None:
                yield Frame(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), index / self.fps, name)
                ok, frame = self.capture.read()
                frame = frame if ok else None
                index += 1
        finally:
            self.capture.release()


class GifReader:
    def __init__(self, path):
        self.path = str(path)
        try:
            self.image = Image.open(self.path)
            self.image.seek(0)
        except Exception as err:  # Pillow raises several types for undecodable files
            raise UserError(f"cannot decode GIF {self.path}: {err}") from err
        self.num_frames = getattr(self.image, "n_frames", 1)
        durations = self.image.info.get("duration") or DEFAULT_GIF_FRAME_MS
        self.fps = 1000.0 / durations

    def __iter__(self):
        name = os.path.basename(self.path)
        timestamp = 0.0
        try:
            for frame in ImageSequence.Iterator(self.image):
                yield Frame(np.asarray(frame.convert("RGB")), timestamp, name)
                timestamp += (frame.info.get("duration") or DEFAULT_GIF_FRAME_MS) / 1000.0
        except (OSError, ValueError) as err:
            raise UserError(f"cannot decode GIF {self.path}: {err}") from err
        finally:
            self.image.close()


class ImagesReader:
    """Still images, one frame each (timestamps 0: they are not a sequence)."""

    def __init__(self, paths, path=None):
        self.paths = list(paths)
        self.path = path or os.path.dirname(self.paths[0])  # the folder, or the image given
        self.num_frames = len(self.paths)
        self.fps = None

    def __iter__(self):
        for path in self.paths:
            yield Frame(load_rgb(path), 0.0, os.path.basename(path))


def open_media(path):
    """A reader (iterable of ``Frame``, with ``num_frames`` and ``fps``) for any input ``predict`` accepts."""
    kind = media_kind(path)
    if kind == "folder":
        return ImagesReader(folder_images(path), path)
    if kind == "image":
        load_rgb(path)  # an undecodable image fails here, as a video does, before a model loads or an output is made
        return ImagesReader([path], path)
    if kind == "gif":
        return GifReader(path)
    return VideoReader(path)


def write_image(path, image, **options):
    """RGB uint8 ``image`` to ``path`` (format from the extension; ``options`` go to Pillow's writer, e.g.
    ``quality`` for JPEG), atomically."""
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format=Image.registered_extensions()[os.path.splitext(path)[1].lower()],
                                    **options)


class MediaWriter:
    """Annotated frames to an MP4 (OpenCV 'mp4v') or a GIF (Pillow); ``close()`` renames it into place."""

    def __init__(self, path, fps):
        self.path, self.fps = str(path), fps
        self.extension = os.path.splitext(self.path)[1].lower()
        if self.extension not in GIF_EXTENSIONS + VIDEO_EXTENSIONS:
            raise UserError(f"cannot write {self.path}: expected a .gif or a video extension")
        self.tmp = temporary_sibling(self.path)
        self.video = None
        self.gif_frames = []

    def write(self, image):
        if self.extension in GIF_EXTENSIONS:
            self.gif_frames.append(Image.fromarray(image))
            return
        if self.video is None:
            height, width = image.shape[:2]
            self.video = cv2.VideoWriter(self.tmp, cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height))
            if not self.video.isOpened():
                raise UserError(f"cannot write video {self.path}: OpenCV has no 'mp4v' encoder for it")
        self.video.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))

    def close(self):
        if self.video is None and not self.gif_frames:
            self.discard()
            raise UserError(f"no frame to write to {self.path}")
        if self.video is not None:
            self.video.release()
        elif self.gif_frames:
            self.gif_frames[0].save(self.tmp, format="GIF", save_all=True, append_images=self.gif_frames[1:],
                                    duration=int(round(1000.0 / self.fps)), loop=0)
        os.replace(self.tmp, self.path)

    def discard(self):
        if self.video is not None:
            self.video.release()
        if os.path.exists(self.tmp):
            os.remove(self.tmp)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self.close()
        else:
            self.discard()

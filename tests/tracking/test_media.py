"""Frame readers and writers: round trips through OpenCV / Pillow, and clear errors for bad inputs."""

import cv2
import numpy as np
import pytest
from PIL import Image

from movenet_train.errors import UserError
from movenet_train.tracking import media


def frames(n, height=48, width=64):
    return [np.full((height, width, 3), 40 * i, np.uint8) for i in range(n)]


def test_mp4_round_trip(tmp_path):
    path = tmp_path / "clip.mp4"
    with media.MediaWriter(path, fps=5) as writer:
        for frame in frames(4):
            writer.write(frame)
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # the temporary file was renamed
    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 4 and capture.get(cv2.CAP_PROP_FPS) == 5
    reader = media.open_media(path)
    read = list(reader)
    np.testing.assert_allclose([f.timestamp for f in read], [0.0, 0.2, 0.4, 0.6])
    assert read[2].image.shape == (48, 64, 3) and abs(int(read[2].image.mean()) - 80) <= 3  # lossy codec


def test_gif_round_trip(tmp_path):
    path = tmp_path / "clip.gif"
    with media.MediaWriter(path, fps=10) as writer:
        for frame in frames(3):
            writer.write(frame)
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.info["duration"] == 100
    read = list(media.open_media(path))
    np.testing.assert_allclose([f.timestamp for f in read], [0.0, 0.1, 0.2])
    np.testing.assert_array_equal(read[1].image, frames(3)[1])


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with media.MediaWriter(tmp_path / "clip.mp4", fps=5) as writer:
            writer.write(frames(1)[0])
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_folder_lists_images_in_order(tmp_path):
    for name in ("b.png", "a.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    reader = media.open_media(tmp_path)
    assert [p.split("/")[-1] for p in reader.paths] == ["a.jpg", "b.png"]


def test_undecodable_video_names_the_file(tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"not a video" * 100)
    with pytest.raises(UserError, match=r"cannot decode video .*broken\.mp4"):
        media.open_media(path)


def test_undecodable_gif_names_the_file(tmp_path):
    path = tmp_path / "broken.gif"
    path.write_bytes(b"GIF89a" + b"\0" * 10)
    with pytest.raises(UserError, match=r"cannot decode GIF .*broken\.gif"):
        list(media.open_media(path))


def test_undecodable_image_names_the_file(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"not a jpeg")
    with pytest.raises(UserError, match=r"cannot decode image .*broken\.jpg"):
        list(media.open_media(path))


@pytest.mark.parametrize("name,error,message", [
    ("clip.xyz", ValueError, "unknown extension '.xyz'"),
    ("missing.mp4", FileNotFoundError, "missing.mp4 does not exist"),
])
def test_inputs_it_cannot_read(tmp_path, name, error, message):
    if name.endswith(".xyz"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(error, match=message):
        media.open_media(tmp_path / name)


def test_empty_folder(tmp_path):
    with pytest.raises(UserError, match="holds no image"):
        media.open_media(tmp_path)

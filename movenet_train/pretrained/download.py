"""Download Google's released MoveNet files (for users who are online), with a progress bar and a checksum.

``movenet-download variant=lightning format=tflite_int8 [output=DIR]`` (movenet_train/jobs/download.py)

The URLs are TF Hub handles, which redirect to Kaggle Models. A file whose sha256 is known is verified; for
the others the computed sha256 is printed and stored beside the file, so later runs can be pinned to it.
"""

import hashlib
import os
import urllib.error
import urllib.request

from movenet_train.atomic import atomic_path

# (variant, format) -> (URL, file name, sha256 or None)
RELEASED_FILES = {
    ("lightning", "tflite_int8"): (
        "https://tfhub.dev/google/lite-model/movenet/singlepose/lightning/tflite/int8/4?lite-format=tflite",
        "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite",
        "cd7cc22fa946e5d146a7b98d496853e1923e22828d3972d579973f27f91bb105",
    ),
    ("lightning", "tflite_fp16"): (
        "https://tfhub.dev/google/lite-model/movenet/singlepose/lightning/tflite/float16/4?lite-format=tflite",
        "lite-model_movenet_singlepose_lightning_tflite_float16_4.tflite",
        None,
    ),
    ("thunder", "tflite_int8"): (
        "https://tfhub.dev/google/lite-model/movenet/singlepose/thunder/tflite/int8/4?lite-format=tflite",
        "lite-model_movenet_singlepose_thunder_tflite_int8_4.tflite",
        None,
    ),
    ("thunder", "tflite_fp16"): (
        "https://tfhub.dev/google/lite-model/movenet/singlepose/thunder/tflite/float16/4?lite-format=tflite",
        "lite-model_movenet_singlepose_thunder_tflite_float16_4.tflite",
        None,
    ),
    ("multipose_lightning", "tflite_fp16"): (
        "https://tfhub.dev/google/lite-model/movenet/multipose/lightning/tflite/float16/1?lite-format=tflite",
        "lite-model_movenet_multipose_lightning_tflite_float16_1.tflite",
        None,
    ),
}


class DownloadError(RuntimeError):
    pass


def download(variant, fmt, output_dir, urlopen=urllib.request.urlopen, chunk_size=1 << 16):
    """Fetches one released file into ``output_dir`` (atomically) and returns its path."""
    from tqdm import tqdm

    if (variant, fmt) not in RELEASED_FILES:
        known = ", ".join(f"{v} {f}" for v, f in RELEASED_FILES)
        raise DownloadError(f"no released MoveNet file for {variant} {fmt}; known: {known}")
    url, name, expected = RELEASED_FILES[(variant, fmt)]
    os.makedirs(output_dir, exist_ok=True)
    target = os.path.join(output_dir, name)
    try:
        response = urlopen(url, timeout=30)
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(
            f"cannot reach {url.split('/')[2]} to download MoveNet {variant} {fmt} ({err}). Are you offline? "
            f"Download {url} by hand and pass the file as checkpoint=PATH."
        ) from err
    digest = hashlib.sha256()
    total = int(response.headers.get("Content-Length") or 0) or None
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as f, tqdm(total=total, unit="B", unit_scale=True, desc=name) as bar:
            for chunk in iter(lambda: response.read(chunk_size), b""):
                f.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
        sha256 = digest.hexdigest()
        if expected and sha256 != expected:
            raise DownloadError(f"checksum mismatch for {url}: got {sha256}, expected {expected}")
    with atomic_path(target + ".sha256") as tmp, open(tmp, "w") as f:
        f.write(f"{sha256}  {name}\n")
    status = "verified" if expected else "not pinned; recorded in .sha256"
    print(f"{target}: sha256 {sha256} ({status})")
    return target

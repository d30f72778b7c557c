"""The download path, offline: the HTTP layer is faked."""

import hashlib
import io
import os
import urllib.error

import pytest

from movenet_train.pretrained import download


class FakeResponse(io.BytesIO):
    def __init__(self, payload):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}


def test_download_verifies_checksum_and_writes_atomically(tmp_path, monkeypatch):
    payload = b"not really a tflite file"
    monkeypatch.setitem(download.RELEASED_FILES, ("lightning", "test"),
                        ("https://example.invalid/x", "x.tflite", hashlib.sha256(payload).hexdigest()))
    path = download.download("lightning", "test", tmp_path, urlopen=lambda url, timeout: FakeResponse(payload))
    assert open(path, "rb").read() == payload
    assert os.path.exists(path + ".sha256")


def test_checksum_mismatch_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setitem(download.RELEASED_FILES, ("lightning", "test"), ("https://example.invalid/x", "x.tflite", "0" * 64))
    with pytest.raises(download.DownloadError, match="checksum mismatch"):
        download.download("lightning", "test", tmp_path, urlopen=lambda url, timeout: FakeResponse(b"abc"))
    assert os.listdir(tmp_path) == []


def test_offline_is_a_clear_error(tmp_path):
    def offline(url, timeout):
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(download.DownloadError, match="offline"):
        download.download("lightning", "tflite_int8", tmp_path, urlopen=offline)
    with pytest.raises(download.DownloadError, match="no released MoveNet file"):
        download.download("thunder", "tfjs", tmp_path, urlopen=offline)

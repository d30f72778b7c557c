"""Autolabel's labels through a Label Studio server and back: import, export as COCO, compare every keypoint.

    python scripts/label_studio_roundtrip.py --label-studio /tmp/label-studio/bin/label-studio \
        --labels outputs/autolabel/squats/person_keypoints.json [--images outputs/autolabel/squats/images]

Starts ``label-studio`` (installed in a virtual environment of its own: its dependencies conflict with the
project's) on 127.0.0.1 with a fresh data folder and a user made for the run, creates a keypoint project with
``movenet_train.autolabel.label_studio.label_config`` (one label per joint), imports the labels as annotations
(``label_studio.tasks``), exports the project as COCO through the server's API, and checks that every image,
person and keypoint came back (Label Studio rounds to whole pixels and exports one person per task, so the check
takes images with one person). Stops the server and deletes its data at the end; prints one line per check and
exits non-zero when one fails. Nothing leaves this machine.
"""

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile

import numpy as np


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label-studio", required=True, help="the label-studio executable (its own venv)")
    parser.add_argument("--labels", required=True, help="autolabel's person_keypoints.json")
    parser.add_argument("--images", help="the labels' image folder (served to Label Studio as local files)")
    parser.add_argument("--start-timeout", type=float, default=600, help="seconds to wait for the server")
    return parser.parse_args(argv)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A Label Studio server on 127.0.0.1 with its own data folder and API token."""

    def __init__(self, executable, data_dir, images=None):
        self.port, self.token = free_port(), uuid.uuid4().hex
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true", LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="true")
        if images:
            env.update(LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED="true",
                       LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT=os.path.dirname(os.path.abspath(images)))
        self.log = open(os.path.join(data_dir, "server.log"), "w")
        self.process = subprocess.Popen(
            [executable, "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", data_dir, "--username", "autolabel@localhost.test", "--password", uuid.uuid4().hex,
             "--user-token", self.token], env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"label-studio exited with status {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(2)
        raise TimeoutError(f"label-studio did not answer on {self.url} within {timeout:.0f} s; see {self.log.name}")

    def api(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Token {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.read()

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: the server and its workers only
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def exported_coco(payload):
    """result.json of Label Studio's COCO export (a zip), or the JSON itself."""
    if payload[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            (name,) = [n for n in archive.namelist() if n.endswith(".json")]
            return json.loads(archive.read(name))
    return json.loads(payload)


def compare(labels, back):
    """Lines of what differs between ``labels`` and Label Studio's export ``back`` (one-person images only)."""
    problems = []
    by_name = {os.path.basename(i["file_name"]).split("-", 1)[-1]: i for i in back["images"]}
    back_people = {}
    for ann in back["annotations"]:
        back_people.setdefault(ann["image_id"], []).append(ann)
    people = {}
    for ann in labels["annotations"]:
        people.setdefault(ann["image_id"], []).append(ann)
    checked = 0
    for image in labels["images"]:
        if len(people.get(image["id"], [])) != 1:
            continue
        match = by_name.get(os.path.basename(image["file_name"]))
        if match is None:
            problems.append(f"{image['file_name']}: not in the export")
            continue
        (original,) = people[image["id"]]
        exported = back_people.get(match["id"], [])
        if len(exported) != 1:
            problems.append(f"{image['file_name']}: {len(exported)} people exported, 1 imported")
            continue
        a, b = np.reshape(original["keypoints"], (-1, 3)), np.reshape(exported[0]["keypoints"], (-1, 3))
        if a.shape != b.shape or (a[:, 2] > 0).tolist() != (b[:, 2] > 0).tolist() or \
                np.abs(a[:, :2] - b[:, :2]).max() > 1.0:
            problems.append(f"{image['file_name']}: keypoints differ: {a.tolist()} -> {b.tolist()}")
        checked += 1
    return checked, problems


def main(argv=None):
    args = parse_args(argv)
    from movenet_train.autolabel import label_studio
    from movenet_train.keypoints import from_coco_file

    with open(args.labels) as f:
        labels = json.load(f)
    schema = from_coco_file(args.labels)
    with tempfile.TemporaryDirectory(prefix="label-studio-") as data_dir:
        server = Server(args.label_studio, data_dir, args.images)
        try:
            started = time.time()
            server.wait(args.start_timeout)
            print(f"server up on {server.url} in {time.time() - started:.0f} s")
            project = json.loads(server.api("POST", "/api/projects", {
                "title": "autolabel round trip", "label_config": label_studio.label_config(schema)}))
            root = "/data/local-files/?d=" + os.path.basename(os.path.abspath(args.images)) + "/" if args.images else ""
            tasks = label_studio.tasks(labels, root, as_annotations=True)
            server.api("POST", f"/api/projects/{project['id']}/import", tasks)
            print(f"imported {len(tasks)} tasks into project {project['id']}")
            back = exported_coco(server.api("GET", f"/api/projects/{project['id']}/export?exportType=COCO"
                                                   "&download_all_tasks=true"))
            checked, problems = compare(labels, back)
        finally:
            server.stop()
    print(f"exported {len(back['images'])} images, {len(back['annotations'])} people; {checked} one-person images "
          f"compared: {len(problems)} differ")
    for line in problems[:20]:
        print("  " + line)
    return 1 if problems or not checked else 0


if __name__ == "__main__":
    sys.exit(main())

"""Label Studio's side of the labels: a labelling config with one keypoint label per joint, and tasks.

Label Studio's own COCO import labels every keypoint with the category's name (``person``), so its export cannot
tell a knee from a wrist; its COCO export (``label_studio_sdk.converter``) orders keypoints by the labels'
``model_index``. Here each joint is a label of its own, ``model_index`` its place in the keypoint schema, and each
kept keypoint of the labels one region: Label Studio shows the labels as pre-annotations (``predictions``) to
accept or move, and exports them back as COCO in the schema's order. Its COCO export writes all keypoints of a task
as one person: a full loop for one person per image (a clip with ``people=single``); several people per image go
to CVAT (docs/autolabel.md).
"""

import colorsys
from xml.sax.saxutils import quoteattr

FROM_NAME = "keypoints"
TO_NAME = "image"
POINT_WIDTH = 0.5  # Label Studio's point size, in percent of the image width


def label_config(schema, from_name=FROM_NAME, to_name=TO_NAME):
    """The ``<View>`` XML of a keypoint project for ``schema``: one ``<Label>`` per joint, in the schema's order."""
    labels = []
    for index, name in enumerate(schema.names):
        red, green, blue = (int(255 * c) for c in colorsys.hsv_to_rgb(index / schema.num_keypoints, 0.8, 0.95))
        labels.append(f'    <Label value={quoteattr(name)} model_index="{index}" '
                      f'background="#{red:02x}{green:02x}{blue:02x}"/>')
    return (f'<View>\n  <Image name="{to_name}" value="$image" zoom="true"/>\n'
            f'  <KeyPointLabels name="{from_name}" toName="{to_name}" smart="false">\n'
            + "\n".join(labels) + "\n  </KeyPointLabels>\n</View>\n")


def tasks(labels, image_url, as_annotations=False, from_name=FROM_NAME, to_name=TO_NAME):
    """One Label Studio task per image of a COCO keypoint dict ``labels`` (``coco_writer.dataset``): its image at
    ``image_url + file_name`` and each kept keypoint (v > 0) as a region labelled with its joint's name. The
    regions are ``predictions`` (pre-annotations a reviewer accepts or corrects), or with ``as_annotations``
    finished annotations (what an import of corrected labels looks like)."""
    (category,) = [c for c in labels["categories"] if c.get("keypoints")]
    names = category["keypoints"]
    per_image = {}
    for ann in labels["annotations"]:
        per_image.setdefault(ann["image_id"], []).append(ann)
    out = []
    for image in labels["images"]:
        width, height = image["width"], image["height"]
        result, scores = [], []
        for person, ann in enumerate(per_image.get(image["id"], [])):
            scores.append(ann.get("score", 1.0))
            values = ann["keypoints"]
            for joint, name in enumerate(names):
                x, y, v = values[3 * joint:3 * joint + 3]
                if v > 0:
                    result.append({"id": f"p{person}k{joint}", "type": "keypointlabels", "from_name": from_name,
                                   "to_name": to_name, "original_width": width, "original_height": height,
                                   "image_rotation": 0,
                                   "value": {"x": 100.0 * x / width, "y": 100.0 * y / height, "width": POINT_WIDTH,
                                             "keypointlabels": [name]}})
        entry = {"result": result}
        if not as_annotations:
            entry.update(model_version="autolabel", score=sum(scores) / len(scores) if scores else 0.0)
        out.append({"data": {"image": image_url + image["file_name"]},
                    "annotations" if as_annotations else "predictions": [entry]})
    return out

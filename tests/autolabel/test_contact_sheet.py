"""Contact sheets: the least confident people first, kept joints drawn as the skeleton, unsure ones as rings."""

import numpy as np

from movenet_train.autolabel import contact_sheet
from movenet_train.visualization import UNSURE_COLOR
from tests.autolabel.standins import SCHEMA


def record(name, scores):
    """A journal record of one 64x64 image with one person per entry of ``scores``, their right hand unsure."""
    annotations, poses = [], []
    for score in scores:
        pose = [[16.0, 32.0, 0.9], [28.0, 44.0, 0.9], [28.0, 20.0, 0.1], [50.0, 40.0, 0.9], [50.0, 24.0, 0.9]]
        annotations.append({"bbox": [16, 8, 32, 48], "score": score})
        poses.append(pose)
    return {"file_name": name, "width": 64, "height": 64, "annotations": annotations, "poses": poses}


def test_pages_hold_the_least_confident_people_first():
    tiles = [(0.9, np.full((8, 8, 3), 90, np.uint8)), (0.2, np.full((8, 8, 3), 20, np.uint8)),
             (0.5, np.full((8, 8, 3), 50, np.uint8))]
    (page,) = contact_sheet.pages(tiles, columns=2, rows=2, max_pages=5)
    gap = contact_sheet.GAP
    assert page.shape == (2 * (8 + gap) + gap, 2 * (8 + gap) + gap, 3)
    assert page[gap, gap, 0] == 20 and page[gap, 2 * gap + 8, 0] == 50 and page[2 * gap + 8, gap, 0] == 90
    assert len(contact_sheet.pages(tiles, columns=1, rows=1, max_pages=2)) == 2  # at most max_pages


def test_sheets_are_written_with_unsure_joints_ringed(tmp_path):
    image = np.full((64, 64, 3), 255, np.uint8)
    paths = contact_sheet.write_contact_sheets([record("a.png", [0.7, 0.3]), {"file_name": "b.png", "skipped": "x"}],
                                               lambda name: image, SCHEMA, str(tmp_path), 0.3, tile_size=64,
                                               columns=1, rows=1, max_pages=20)
    assert [p.rsplit("/", 1)[1] for p in paths] == ["contact_sheet_001.png", "contact_sheet_002.png"]
    tile = contact_sheet.person_tile(image, {"bbox": [16, 8, 32, 48], "score": 0.3}, np.asarray(record("a", [0.3])
                                     ["poses"][0]), "a.png", SCHEMA, 0.3, 64).astype(int)
    # the box's square is 60 px from (2, 2), scaled by 64/60: the right hand (28, 20) lands at (27.7, 19.2) of the
    # tile, the head (16, 32) at (14.9, 32)
    grey = (tile[..., 0] == tile[..., 1]) & (tile[..., 1] == tile[..., 2]) & (tile[..., 0] < 240)
    assert grey[22:34, 13:26].sum() > 10 and (tile[28, 19] == 255).all()  # a grey ring, hollow
    assert UNSURE_COLOR == (160, 160, 160)
    assert not grey[15, 32] and not (tile[15, 32] == 255).all()  # the kept head: a coloured dot

"""Labels without labelling: COCO keypoint files for a folder of images or a clip, made by a released model.

``people.py`` finds the people (the whole image, the tracker's crop, or a MultiPose detector's boxes),
``ensemble.py`` labels each on several views (mirror, crop scales, orientation=any) fused per keypoint,
``coco_writer.py`` writes the COCO file and the resumable journal, ``contact_sheet.py`` draws the pages a reviewer
looks at, and ``labelling.py`` runs it all (``python -m movenet_train.autolabel``; docs/autolabel.md).
"""

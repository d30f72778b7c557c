"""Generate the synthetic person set as COCO JSON + JPEGs.

    python data/make_synthetic.py output=<dir> [num_images=N] [data.generator.seed=S] [keypoints=coco19_neck_pelvis]
"""

from movenet_train.jobs import make_synthetic

if __name__ == "__main__":
    make_synthetic.main()

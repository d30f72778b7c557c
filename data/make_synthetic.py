"""Generate the synthetic person set as COCO JSON + JPEGs.

    python data/make_synthetic.py output=<dir> [num_images=N] [data.generator.seed=S] [keypoints=coco19_neck_pelvis]
"""

from movenet_train import cli

if __name__ == "__main__":
    cli.make_synthetic()

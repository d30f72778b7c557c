"""``python -m movenet_train.modeling``: the parameter counts of every variant (movenet_train/jobs/model_sizes.py)."""

from movenet_train.jobs import model_sizes

if __name__ == "__main__":
    model_sizes.main()

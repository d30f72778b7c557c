"""``python -m movenet_train.audit checkpoint=<model> records=<glob>``: where a model and the objective disagree.

See configs/audit.yaml and movenet_train/evaluation/audit.py.
"""

from movenet_train import cli

if __name__ == "__main__":
    cli.audit()

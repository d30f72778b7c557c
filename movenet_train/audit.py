"""``python -m movenet_train.audit checkpoint=<model> records=<glob>``: where a model and the objective disagree.

See configs/audit.yaml and movenet_train/jobs/audit.py.
"""

from movenet_train.jobs import audit

if __name__ == "__main__":
    audit.main()

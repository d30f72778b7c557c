"""Diagnostics: where a model and the training objective disagree (``python -m movenet_train.audit``,
``movenet-audit``; ``jobs/audit.py``). The report is assembled in ``objective_audit.py`` from the measurements of
``residuals.py`` (head residuals by ring), ``peak_widths.py`` (heatmap peak widths, the centre),
``loss_gradients.py`` (loss terms, their backbone gradients, one signed-gradient step) and
``batch_norm_checks.py`` (BatchNorm re-estimation); ``report_table.py`` prints it."""

from movenet_train.diagnostics.objective_audit import audit
from movenet_train.diagnostics.report_table import format_report

__all__ = ["audit", "format_report"]

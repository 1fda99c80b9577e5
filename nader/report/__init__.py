"""``nader report RUN_DIR``: one self-contained HTML file describing a run.

Everything is inline (SVG, CSS, a little JavaScript, the table's data as JSON): the file opens
offline and can be mailed around. All text from the run — suggestions, block text, errors, an
LLM wrote them — is escaped (:mod:`nader.report.html`).
"""

from nader.report.charts import pareto_front
from nader.report.page import render_report, write_report

__all__ = ["pareto_front", "render_report", "write_report"]

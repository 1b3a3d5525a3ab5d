"""The run report: collect what a run left under results/{dataset}/, render one HTML file.

collect.py reads the outputs (each section from whatever exists), charts.py
draws the pictures (matplotlib Agg, inline PNG), render.py fills the Jinja2
template in stratopt/templates/ with autoescaping on.
"""

from stratopt.report.render import render_report, report_rule, write_report

__all__ = ["render_report", "report_rule", "write_report"]

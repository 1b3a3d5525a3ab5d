"""The run report: collect what a run left under results/{dataset}/, render one HTML file.

collect.py reads the outputs (each section from whatever exists), charts.py
draws the pictures (inline SVG through svgplot.py and ticks.py), render.py fills
the Jinja2 template in report/templates/ with autoescaping on.
"""

"""The legacy optimizer's file layouts: every writer, and the one parser, in one place.

Users read the legacy's text files with their own scripts, so a file said to
be "in the legacy layout" is that layout line for line (docs/legacy.md):
- layout.py: best_portfolio_size{n}.txt and the optimization summary, and the
  parser of both;
- metrics_csv.py: strategy_metrics.csv;
- inversion.py: the ULTA inversion report (inversion_report.md);
- names.py: strategy names as the legacy writes them (the input file's stem
  in front);
- ini.py: the legacy's INI configuration, turned into a stratopt config.

stratopt's own Parquet and JSON outputs keep clean names and are not here.
"""

from __future__ import annotations

#: The legacy ran on Windows and wrote its text files in text mode: CRLF line
#: endings. The legacy-layout files keep them, so that a user's script which
#: worked on the real files works on ours byte for byte in structure.
NEWLINE = "\r\n"

"""Write (or check) the settings tables of docs/algorithms.md from the settings dataclasses.

Each built-in algorithm's table sits between `<!-- settings:NAME -->` and
`<!-- /settings -->`; stratopt.algorithms.settings.markdown_table writes it
from the algorithm's `settings_class`, so the docs cannot drift from the code
(tests/algorithms/test_algorithm_settings.py compares them).

    python scripts/dev/algorithm_docs.py          # rewrite the tables
    python scripts/dev/algorithm_docs.py --check  # exit 1 if a table is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from stratopt.algorithms import load_algorithm
from stratopt.algorithms.settings import markdown_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "algorithms.md"
#: a marked table: its opening marker, its lines (none at first), its closing marker
MARKED = re.compile(r"(<!-- settings:(\w+) -->\n)((?:(?!<!--).)*?\n)?(<!-- /settings -->)", re.S)


def rewritten(text: str) -> str:
    def table(match: re.Match[str]) -> str:
        body = markdown_table(load_algorithm(match.group(2)).settings_class)
        return match.group(1) + body + "\n" + match.group(4)

    return MARKED.sub(table, text)


def main(argv: list[str]) -> int:
    text = DOCS.read_text(encoding="utf-8")
    new = rewritten(text)
    if "--check" in argv:
        if new != text:
            print(
                f"{DOCS}: settings tables out of date; run {Path(__file__).name}", file=sys.stderr
            )
            return 1
        return 0
    DOCS.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The run documents' JSON text, each size's record encoded once.

A size's record (its trace holds one fitness per evaluation for the
single-move searches: about 57 KB of text at a budget of 3,000) is encoded
when its checkpoint is written; runs/{algorithm}.json is then spliced from
those texts instead of encoding every trace a second time (0.8 s of the
default run's optimize job, with the GIL held). Compact JSON is
compositional, so the spliced text is the same bytes as
json_text(run_document(...), compact=True) (tests/search/test_run_text.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stratopt.runtime.atomic import json_text

#: The placeholder the sizes take in the document's head while it is encoded.
_SIZES = '"sizes":[]'


def record_text(record: Mapping[str, Any]) -> str:
    """A size's record as compact JSON (as in its checkpoint's "result")."""
    return json_text(record, compact=True)


def size_entry(record: str, names: Sequence[str], seed: Sequence[int]) -> str:
    """One element of the document's "sizes": the record with its names and seed added."""
    extra = json_text({"names": list(names), "seed": list(seed)}, compact=True)
    return record[:-1] + "," + extra[1:]


def document_text(head: Mapping[str, Any], entries: Sequence[str]) -> str | None:
    """The document: `head` (its "sizes" an empty list) with the entries in place of
    that list; None when the head's text does not hold the placeholder exactly once."""
    text = json_text(head, compact=True)
    if head.get("sizes") != [] or text.count(_SIZES) != 1:
        return None
    return text.replace(_SIZES, '"sizes":[' + ",".join(entries) + "]")

"""The report's sections, one module each, every file read through stratopt.contracts.

A section whose stage did not run gets None (the template says so). A file
that is present but breaks its contract is not guessed at: its section gets
None too, and the Reader records the error in the report's notes and the
file among the broken ones, which the report names at its top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratopt.contracts import ContractError, Output
from stratopt.data.matrix import check_parquet, read_output
from stratopt.errors import InputError


@dataclass
class Reader:
    """Reads one results folder through the contracts, noting every output that breaks one."""

    results: Path
    notes: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)

    def json(self, output: Output, **wildcards: Any) -> Any:
        """The checked document, or None when absent or broken (then noted)."""
        return self.json_at(output, output.path(self.results, **wildcards))

    def json_at(self, output: Output, path: Path) -> Any:
        try:
            return output.read_json_at(path)
        except ContractError as exc:
            self.broke(path, str(exc))
            return None

    def table(self, output: Output, columns: list[str] | None = None, **wildcards: Any) -> Any:
        """The checked Parquet table (pyarrow), or None when absent or broken (then noted)."""
        try:
            return read_output(output, self.results, columns, **wildcards)
        except InputError as exc:  # a ContractError, or a file that does not read
            self.broke(output.path(self.results, **wildcards), str(exc))
            return None

    def parquet_fits(self, output: Output, **wildcards: Any) -> bool:
        """Whether the Parquet file exists and its schema fits (a misfit is noted)."""
        path = output.path(self.results, **wildcards)
        if not path.exists():
            return False
        try:
            check_parquet(output, path)
        except ContractError as exc:
            self.broke(path, str(exc))
            return False
        return True

    def broke(self, path: Path, message: str) -> None:
        """Record a present output that cannot be shown as its contract says."""
        self.notes.append(message)
        try:
            name = Path(path).relative_to(self.results).as_posix()
        except ValueError:
            name = str(path)
        if name not in self.broken:
            self.broken.append(name)

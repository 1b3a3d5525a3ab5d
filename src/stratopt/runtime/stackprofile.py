"""Sampled call stacks: py-spy's raw (collapsed) format, speedscope, hot frames.

py-spy writes one format per run, so a stage is recorded once in the raw
format ("frame;frame;frame COUNT" per distinct stack) and everything else is
derived from it here: the speedscope JSON (https://www.speedscope.app, the
"sampled" profile type), the SVG flamegraph (stratopt.runtime.flamegraph) and the
table of hottest frames in the report.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json"
_COUNT = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$", re.DOTALL)
_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*):(?P<line>\d+)\)$")
_PROCESS = re.compile(r'^process \d+:"(?P<cmd>.*)"$', re.DOTALL)


@dataclass(frozen=True)
class StackProfile:
    """Distinct call stacks (root first) and how many samples each got."""

    stacks: list[tuple[tuple[str, ...], int]]
    rate: float = 100.0  # samples per second
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def samples(self) -> int:
        return sum(count for _, count in self.stacks)

    @property
    def seconds(self) -> float:
        return self.samples / self.rate if self.rate else 0.0


def clean_frame(frame: str) -> str:
    """Shorten py-spy's process pseudo-frames to `process: CMD` (no pid)."""
    frame = frame.replace("\n", " ").strip()
    match = _PROCESS.match(frame)
    if match:
        cmd = " ".join(match.group("cmd").split())
        return f"process: {cmd[:80]}{'...' if len(cmd) > 80 else ''}"
    return frame


def parse_raw(text: str, *, rate: float = 100.0, name: str = "") -> StackProfile:
    """Parse py-spy's raw output; a process command line may span lines."""
    merged: Counter[tuple[str, ...]] = Counter()
    pending: list[str] = []
    for line in text.splitlines():
        pending.append(line)
        match = _COUNT.match("\n".join(pending))
        if not match:
            continue
        pending = []
        frames = tuple(clean_frame(f) for f in match.group("stack").split(";") if f)
        if frames:
            merged[frames] += int(match.group("count"))
    if any(p.strip() for p in pending):
        raise ValueError(f"malformed collapsed-stack record: {' '.join(pending)[:200]!r}")
    return StackProfile(stacks=sorted(merged.items()), rate=rate, name=name)


def split_frame(frame: str) -> dict[str, Any]:
    """`func (file.py:12)` -> {"name", "file", "line"}; other frames keep the name only."""
    match = _FRAME.match(frame)
    if not match:
        return {"name": frame}
    return {
        "name": match.group("name"),
        "file": match.group("file"),
        "line": int(match.group("line")),
    }


def to_speedscope(profile: StackProfile) -> dict[str, Any]:
    """The speedscope document: one sampled profile, weights in seconds."""
    index: dict[str, int] = {}
    frames: list[dict[str, Any]] = []
    samples: list[list[int]] = []
    weights: list[float] = []
    for stack, count in profile.stacks:
        ids = []
        for frame in stack:
            if frame not in index:
                index[frame] = len(frames)
                frames.append(split_frame(frame))
            ids.append(index[frame])
        samples.append(ids)
        weights.append(count / profile.rate)
    total = sum(weights)
    return {
        "$schema": SPEEDSCOPE_SCHEMA,
        "exporter": "stratopt (from py-spy raw samples)",
        "name": profile.name,
        "activeProfileIndex": 0,
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "name": profile.name,
                "unit": "seconds",
                "startValue": 0,
                "endValue": total,
                "samples": samples,
                "weights": weights,
            }
        ],
        "stratopt": {"rate": profile.rate, "samples": profile.samples, **profile.meta},
    }


def from_speedscope(doc: dict[str, Any]) -> StackProfile:
    """Read back a speedscope document written by `to_speedscope`."""
    frames = [_join_frame(f) for f in doc["shared"]["frames"]]
    prof = doc["profiles"][0]
    rate = float(doc.get("stratopt", {}).get("rate", 100.0))
    merged: Counter[tuple[str, ...]] = Counter()
    for ids, weight in zip(prof["samples"], prof["weights"], strict=True):
        merged[tuple(frames[i] for i in ids)] += round(weight * rate)
    return StackProfile(stacks=sorted(merged.items()), rate=rate, name=doc.get("name", ""))


def _join_frame(frame: dict[str, Any]) -> str:
    if "file" in frame and "line" in frame:
        return f"{frame['name']} ({frame['file']}:{frame['line']})"
    return str(frame["name"])


def hottest_frames(profile: StackProfile, top: int = 10) -> list[dict[str, Any]]:
    """Frames by self time (samples where the frame is the leaf), with their total time.

    Process pseudo-frames are not code and are left out.
    """
    total = profile.samples
    if not total:
        return []
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for stack, count in profile.stacks:
        own[stack[-1]] += count
        for frame in set(stack):
            inclusive[frame] += count
    rows = []
    for frame, count in own.most_common():
        if frame.startswith("process: "):
            continue
        rows.append(
            {
                "frame": frame,
                "self_s": count / profile.rate,
                "self_pct": 100.0 * count / total,
                "total_s": inclusive[frame] / profile.rate,
                "total_pct": 100.0 * inclusive[frame] / total,
            }
        )
        if len(rows) == top:
            break
    return rows

"""A static SVG flamegraph from sampled stacks (no script, safe to embed as <img>).

The classic layout (Brendan Gregg's flame graph): the root at the bottom,
each frame as wide as the samples it appears in, children on top sorted by
name. Every rectangle carries a <title> with the frame, its samples and its
share, which a browser shows on hover when the SVG is opened directly.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from html import escape

from stratopt.runtime.stackprofile import StackProfile

WIDTH = 1200
FRAME_H = 16
PAD_TOP = 34
PAD_SIDE = 10
FONT_PX = 11
CHAR_W = 6.6  # average advance of an 11 px sans-serif glyph
MIN_W = 0.3  # frames narrower than this (px) are not drawn


@dataclass
class _Node:
    name: str
    count: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


def build_tree(profile: StackProfile) -> _Node:
    root = _Node("all")
    for stack, count in profile.stacks:
        root.count += count
        node = root
        for frame in stack:
            node = node.children.setdefault(frame, _Node(frame))
            node.count += count
    return root


def _colour(name: str) -> str:
    """Warm colours, fixed per function name so that reruns look alike."""
    h = zlib.crc32(name.split(" (")[0].encode())
    r = 205 + h % 50
    g = 80 + (h >> 8) % 150
    b = (h >> 16) % 55
    return f"rgb({r},{g},{b})"


def _label(name: str, width: float) -> str:
    fits = int((width - 6) / CHAR_W)
    if fits < 3:
        return ""
    return name if len(name) <= fits else name[: fits - 2] + ".."


def render_svg(profile: StackProfile, title: str = "") -> str:
    """The flamegraph as SVG text; every frame name is XML-escaped."""
    root = build_tree(profile)
    depth = 1 + max((len(stack) for stack, _ in profile.stacks), default=0)
    height = PAD_TOP + depth * FRAME_H + 24
    total = max(root.count, 1)
    scale = (WIDTH - 2 * PAD_SIDE) / total
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="Verdana, DejaVu Sans, sans-serif" '
        f'font-size="{FONT_PX}">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fdfdf6"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="15">'
        f"{escape(title or profile.name or 'flamegraph')}</text>",
        f'<text x="{PAD_SIDE}" y="{height - 8}" fill="#555">'
        f"{profile.samples} samples at {profile.rate:g} Hz = {profile.seconds:.2f} s"
        "</text>",
    ]
    # iterative walk: (node, x, level)
    todo = [(root, float(PAD_SIDE), 0)]
    while todo:
        node, x, level = todo.pop()
        w = node.count * scale
        if w < MIN_W:
            continue
        y = height - 24 - (level + 1) * FRAME_H
        share = 100.0 * node.count / total
        secs = node.count / profile.rate if profile.rate else 0.0
        tip = f"{node.name} ({node.count} samples, {share:.2f} %, {secs:.2f} s)"
        parts.append(
            f'<g><title>{escape(tip)}</title><rect x="{x:.2f}" y="{y}" width="{w:.2f}" '
            f'height="{FRAME_H - 1}" rx="2" fill="{_colour(node.name)}"/>'
        )
        label = _label(node.name, w)
        if label:
            parts.append(f'<text x="{x + 3:.2f}" y="{y + FRAME_H - 4}">{escape(label)}</text>')
        parts.append("</g>")
        child_x = x
        for name in sorted(node.children):
            child = node.children[name]
            todo.append((child, child_x, level + 1))
            child_x += child.count * scale
    parts.append("</svg>")
    return "\n".join(parts) + "\n"

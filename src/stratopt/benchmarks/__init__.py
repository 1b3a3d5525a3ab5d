"""Benchmark areas for `stratopt bench`: each module with `register(subparsers)` is one."""

"""Sub-commands of the `stratopt` CLI: one module each, discovered by stratopt.cli."""

"""One module per Snakemake rule: `run(smk)`, the single function its script calls.

Each reads the rule's inputs, outputs and params and calls the package's
path-level function for that stage (which the `stratopt` CLI calls too).
"""

"""Out-of-sample validation: walk-forward folds, train-only ULTA and search, test scoring.

A hindsight search over tens of thousands of strategies always finds a
portfolio that looked good; whether the procedure finds one that *stays*
good is a separate question, answered here. Per fold the data before ULTA
(matrix.parquet, date-filtered) is cut into training and test sessions; ULTA
is decided on the training sessions, the configured search runs on them, and
the pick is scored on the test sessions, against random portfolios of the
same size and two naive picks. docs/validation.md describes every output.

Modules: settings (the `validation:` config), folds (the session plan),
universe (train-only ULTA), run (one fold's searches and scores), compare
(percentiles, Spearman, survival), verdict (the sentence), output
(validation.json and the out-of-sample Parquet), stage (the Snakemake rule
and the function behind `stratopt validate`).
"""

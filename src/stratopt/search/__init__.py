"""Running the search algorithms over the portfolio sizes: the optimize stage (resumable, pooled)."""

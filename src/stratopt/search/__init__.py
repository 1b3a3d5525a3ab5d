"""Running the search algorithms over the portfolio sizes (optimize) and picking the winners (selection)."""

"""The numeric engine: fitness of equal-weight portfolios, per-strategy metrics, ULTA, zones.

objectives (the fitness metrics), evaluator (+ kernels: the tuned batch and
swap evaluation), strategy_metrics (one figure set per strategy),
portfolio_metrics (the eight report figures of one portfolio series),
reference (the legacy semantics written plainly: the oracle), ulta, zones,
normalise and backend (NumPy or CuPy, the code written once).
"""

"""The select stage: the best portfolio per size across algorithms, and the recommendation.

select (the winners per size, the stage's files), choice (how the best
overall size is chosen: out of sample when validation ran, else by the guarded
metric), flags (hindsight warnings: a zero drawdown, a 100 % win rate), zones
(each winner's contribution per zone in zone mode).
"""

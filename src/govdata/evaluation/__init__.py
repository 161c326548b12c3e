"""考核评估 (SUP-1, SUP-3): department scorecards per period, indicators and weights set by the
authority, frozen periods, manual scores by a third-party evaluator, and the ranking of regions.

It reads the facts of every capability through their services, so it sits above them (docs/evaluation.md).
"""

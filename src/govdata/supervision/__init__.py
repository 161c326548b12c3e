"""Supervision and evaluation (SUP): the violations register today; notices and scorecards next."""

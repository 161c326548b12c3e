"""A published 人口基础信息 of 市公安局 to load data into (JOURNEYS 1)."""

from __future__ import annotations

from tests.support.batches import population_code  # noqa: F401  (fixture)

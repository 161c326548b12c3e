"""Resources with data to score (QUA-1) and to report problems on (QUA-2)."""

from __future__ import annotations

import pytest

from tests.support.batches import population_code  # noqa: F401  (fixture)
from tests.support.catalog import population, publish


@pytest.fixture
def insured_code(client, as_user) -> str:
    """市人社局's 参保人员信息: keyed by 公民身份号码 like 市公安局's 人口基础信息 (QUA-1 一致性)."""
    body = population(
        name="参保人员信息",
        summary="全市基本养老保险参保人员名册。",
        classification="201",
        update_cycle="monthly",
    )
    body["items"] = [body["items"][0], body["items"][1], body["items"][3]]  # 公民身份号码, 姓名, 出生日期
    return publish(client, as_user, "rs_officer", body)

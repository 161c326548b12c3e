"""Input and output of the scorecards' API (SPEC §15 supervision: the Scorecard payload)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ScorecardItemOut(BaseModel):
    department_id: int
    department_name: str
    score: float | None = Field(description="加权综合得分 0–100；没有任何可计分指标时为空")
    rank: int | None = Field(description="名次（同分同名次）")
    measures: dict[str, float | int | None] = Field(description="指标名 → 原始值（无事实时为空）")
    indicator_scores: dict[str, float | None] = Field(description="指标名 → 指标得分 0–100")


class ScorecardOut(BaseModel):
    period: str
    frozen: bool
    computed_at: datetime
    weights: dict[str, float]
    items: list[ScorecardItemOut]


class RegionItemOut(BaseModel):
    region_code: str
    region_name: str
    departments: int
    scored: int
    score: float | None
    rank: int | None
    measures: dict[str, float | None]


class RegionScorecardOut(BaseModel):
    period: str
    level: str = "region"
    frozen: bool
    computed_at: datetime
    weights: dict[str, float]
    node_region: str | None
    items: list[RegionItemOut]


class WeightsIn(BaseModel):
    period: str | None = Field(default=None, max_length=16, description="2026 或 2026-Q3；不填即本年度")
    weights: dict[str, float] = Field(description="指标名 → 权重（≥ 0；未列出的指标不参与本期考核）")


class WeightsOut(BaseModel):
    period: str
    weights: dict[str, float]


class ManualIn(BaseModel):
    department_id: int
    indicator: str = Field(max_length=40)
    score: float = Field(description="0–100")
    evidence: str = Field(max_length=4000, description="评估依据（必填）")


class ManualOut(BaseModel):
    period: str
    department_id: int
    indicator: str
    score: float
    evidence: str
    entered_by: str
    entered_at: datetime


class FigureOut(BaseModel):
    measure: str
    label: str
    unit: str
    description: str
    value: float | int | None
    numerator: float | int | None
    denominator: float | int | None
    indicator_score: float | None
    weight: float
    link: str | None


class DepartmentFiguresOut(BaseModel):
    period: str
    frozen: bool
    department_id: int
    department_name: str
    score: float | None
    rank: int | None
    figures: list[FigureOut]
    manual: list[ManualOut]


class MeasureOut(BaseModel):
    name: str
    label: str
    unit: str
    higher_is_better: bool
    kind: str
    description: str
    default_weight: float

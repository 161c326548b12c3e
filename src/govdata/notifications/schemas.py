"""Output of the message centre."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class NotificationOut(BaseModel):
    id: int
    kind: str = Field(description="消息类型，如 application.received")
    title: str
    body: str
    link: str | None = Field(description="相关页面（站内相对地址）")
    object_type: str | None
    object_id: str | None
    created_at: dt.datetime
    read: bool
    read_at: dt.datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    total: int = Field(description="符合条件的消息数")
    unread: int = Field(description="未读消息数（不受筛选影响）")


class ReadAllOut(BaseModel):
    marked: int = Field(description="本次标为已读的消息数")
    unread: int

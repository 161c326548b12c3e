"""Permissions of the open-data feed (docs/opening-feed.md): who may take the signed export on the
government node, and who applies one on an internet-facing portal instance."""

from __future__ import annotations

from govdata.core.auth import Role, permission

# the authority publishes the open catalog, so it may take what leaves for the internet side; the
# platform itself (the command line, a scheduled job) too
FEED_EXPORT = permission(
    "opening.feed.export", {Role.authority, Role.admin}, "导出开放数据馈送（签名的开放数据包）", writes=False
)
# a portal instance has no staff: the platform applies the feed in its own name
FEED_IMPORT = permission("opening.feed.import", {Role.admin}, "载入开放数据馈送（互联网门户实例）")

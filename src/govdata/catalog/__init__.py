"""Catalog (目录管理). Importing the package registers the resource-code URL convertor."""

from govdata.catalog import codes  # noqa: F401

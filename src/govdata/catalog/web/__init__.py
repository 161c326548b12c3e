"""Pages of the catalog (CAT-1…11, NF-5): search, the department's catalog, compilation with an items
editor, the resource page with its review actions, versions and diffs, the review queue and duplicate
collection.

Like the API, every page calls :mod:`govdata.catalog.service`, which checks the caller's right and the
resource's visibility again; which buttons a caller gets is asked of :mod:`govdata.catalog.auth`.
Errors of a service are shown on the page next to the form they belong to, in Chinese, and the
entered values are kept.

``presenters`` shapes what the pages show (labels, diffs, actions), ``forms`` reads what they post,
``pages`` holds the routes.
"""

from govdata.catalog.web import exchange_pages
from govdata.catalog.web.pages import router
from govdata.catalog.web.presenters import enum_label

router.include_router(exchange_pages.router)

__all__ = ["enum_label", "router"]

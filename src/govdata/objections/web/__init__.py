"""Pages of objections (COR-1 … COR-4), in Chinese, at desktop and phone width:

* :mod:`.pages` — ``/objections`` (the lists as tabs), ``/objections/new`` (filing, or entering one
  raised off the platform) and ``/objections/{id}`` with its forms;
* :mod:`.panel` — the objections panel of the catalog's resource page.

Pages call the same services as the API and ask the same predicates (``objections.auth``).
"""

from govdata.objections.auth import READ
from govdata.objections.web import pages, panel  # noqa: F401  (routes, panel)
from govdata.objections.web.common import router
from govdata.web import nav_item

nav_item("疑义复核", "/objections", READ, order=66)

__all__ = ["router"]

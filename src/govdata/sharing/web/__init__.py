"""Pages of sharing (SHR, NF-5), in Chinese, at desktop and phone width:

* :mod:`.overview` — ``/sharing``: each role's queues and lists as tabs;
* :mod:`.applications` — the apply form and the application page with its timeline and forms;
* :mod:`.grants` — the grant page: status history, the provider's actions, the consumer's query
  and verification under the grant;
* :mod:`.usage` — ``/sharing/usage``: the usage log with filters and charts (:mod:`.charts`);
* :mod:`.panel` — the sharing panel of the catalog's resource page, with the "申请共享" action.

Pages call the same services as the API and ask the same predicates (``sharing.auth``).
"""

from govdata.sharing.auth import READ
from govdata.sharing.web import applications, grants, overview, panel, usage  # noqa: F401  (routes, panel)
from govdata.sharing.web.common import router
from govdata.web import nav_item

nav_item("数据共享", "/sharing", READ, order=65)

__all__ = ["router"]

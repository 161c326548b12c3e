"""Pages of opening (OPN), in Chinese, at desktop and phone width:

* :mod:`.portal` — the public portal (``/``, ``/datasets``, ``/organizations``), readable without JavaScript;
* :mod:`.downloads` — a dataset's downloads (CSV, XLSX, JSON), de-identified as the plan says;
* :mod:`.account` — public accounts: registration, the account page, applications, demands and reuses;
* :mod:`.manage` — the staff's opening pages (``/opening``): plan, k report, review, publication.

Each module has its own router, listed in ``govdata.capabilities``.
"""

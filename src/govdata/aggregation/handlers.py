"""What aggregation adds to other capabilities at import: the catalog's publish check, which weighs
a revision against the data stored for the resource and queues its migration (``migration.py``).
Imported by ``govdata.capabilities``."""

from __future__ import annotations

from govdata.aggregation import migration
from govdata.catalog import service as catalog

catalog.register_publish_check("aggregation", migration.measure, on_publish=migration.queue)

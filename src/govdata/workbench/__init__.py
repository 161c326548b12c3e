"""The workbench: views across capabilities for those who oversee them (#13 items 15 and 16).

* :mod:`.audit_log` — the audit trail as an auditor reads it: Chinese action names, objects by name,
  details laid out, filters by action, person, department and date, and export (SEC-3);
* :mod:`.region` — the authority's region-wide view: what is due, late and failing across
  departments, and each department's page (SUP-5).

The workbench owns no tables. It sits above every capability and reads them through their services
only (use cases with the caller, or actor-free facts), never their models (``.importlinter``).
"""

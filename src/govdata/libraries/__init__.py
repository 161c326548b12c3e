"""Base libraries and department resource pools (AGG-8, CAT-9, CAT-13, QUA-3)."""

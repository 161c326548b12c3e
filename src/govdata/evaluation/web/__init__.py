"""Pages of evaluation (SUP-5 and on): each module holds its own router, listed in
``govdata.capabilities``."""

"""The annual report (年度报告, SUP-4): the year's figures of every area (catalog, aggregation,
quality, sharing, opening), violations and rectification, and every department's scorecard, as a
printable HTML document and a PDF (WeasyPrint) with charts.

``figures`` gathers the figures section by section, ``render`` writes HTML and PDF, ``api`` serves
``GET /api/v1/reports/annual/{year}?format=html|pdf`` and ``cli`` is ``govdata report annual``.
"""

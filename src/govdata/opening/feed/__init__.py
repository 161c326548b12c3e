"""The one-way open-data feed from the government node to an internet-facing portal instance
(issue #16, docs/opening-feed.md): :mod:`.bundle` (the signed file), :mod:`.service` (export and
import), :mod:`.cli` (``govdata open feed``)."""

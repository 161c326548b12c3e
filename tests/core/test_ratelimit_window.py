"""SEC-6: the platform's per-caller limit is a moving window: a caller gets ``amount`` calls in any
period, the next is refused until the oldest call leaves the window, and callers count apart."""

from __future__ import annotations

from limits import RateLimitItemPerMinute

from govdata.core import ratelimit
from govdata.core.ratelimit import MovingWindow


def test_the_window_moves_with_the_oldest_call(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: now[0])
    window, item = MovingWindow(), RateLimitItemPerMinute(3)
    for offset in (0.0, 10.0, 20.0):
        now[0] = 1000.0 + offset
        assert window.hit(item, "caller", "system:1")
    now[0] = 1059.0
    assert not window.hit(item, "caller", "system:1")  # three calls within the last minute
    assert window.hit(item, "caller", "system:2")  # another caller counts apart
    now[0] = 1060.0  # the first call left the window: one more, and only one
    assert window.hit(item, "caller", "system:1")
    assert not window.hit(item, "caller", "system:1")
    now[0] = 1081.0  # all but the last left it
    assert window.hit(item, "caller", "system:1") and window.hit(item, "caller", "system:1")
    assert not window.hit(item, "caller", "system:1")


def test_a_refused_call_does_not_count(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: now[0])
    window, item = MovingWindow(), RateLimitItemPerMinute(1)
    assert window.hit(item, "login", "10.0.0.1")
    for second in range(1, 60):
        now[0] = float(second)
        assert not window.hit(item, "login", "10.0.0.1")
    now[0] = 60.0  # a minute after the one counted call, however many were refused meanwhile
    assert window.hit(item, "login", "10.0.0.1")

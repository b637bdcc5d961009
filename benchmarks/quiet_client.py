"""What the HTTP load generators (`run.py`, `api_load.py`) do while their clock runs.

Whatever stalls the client is counted as the server's latency. So: no garbage collection (its
pauses stop every client thread at once; at 2 API workers they made the resolve p99 6-16 ms
while the server logged no request over 4.6 ms; without them 3-4 ms), and a 0.5 ms GIL switch
interval instead of 5 ms, so a thread whose response has arrived is not kept waiting by
another client thread.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_client() -> Iterator[None]:
    old_switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        sys.setswitchinterval(old_switch)

"""The Snakemake process does not wait for its scheduler's idle timers (issue 18)."""

from __future__ import annotations

import threading

from analysis.run.timers import cancel_pending_timers


def test_pending_timers_are_cancelled_without_running() -> None:
    fired = threading.Event()
    timer = threading.Timer(60, fired.set)
    timer.start()
    assert cancel_pending_timers() >= 1
    timer.join(timeout=5)
    assert not timer.is_alive()
    assert not fired.is_set()


def test_other_threads_are_left_alone() -> None:
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, args=(60,))
    worker.start()
    try:
        assert cancel_pending_timers() == 0
        assert worker.is_alive()
    finally:
        stop.set()
        worker.join()

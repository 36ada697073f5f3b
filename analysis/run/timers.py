"""Let the Snakemake process end as soon as its last job has: its scheduler starts a one-second
`threading.Timer` each time it waits (`--max-jobs-per-timespan`, 100/1s by default), and Python
waits for such timers before it exits, so every run that ran jobs ended about a second after
its last job (issue 18). Called from the workflow's onsuccess and onerror handlers, when no
job is left to schedule."""

from __future__ import annotations

import threading


def cancel_pending_timers() -> int:
    """Cancel every `threading.Timer` still waiting in this process; how many there were."""
    timers = [
        thread
        for thread in threading.enumerate()
        if isinstance(thread, threading.Timer) and thread.is_alive()
    ]
    for timer in timers:
        timer.cancel()
    return len(timers)

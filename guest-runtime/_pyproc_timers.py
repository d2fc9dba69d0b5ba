"""`threading.Timer` in the sandbox, where no thread can start.

The interpreter has one thread, the processor's. A timer's function runs on it, between
callbacks, never during one: right after the `process` call whose block brings the
stream's clock to the timer's due time, before that block's answer goes back, so events
the function emits with `add_python_event` go out with that block (at its first sample
unless given `sample_number`). The stream's clock counts the samples delivered to
`process` since the interpreter started, divided by the sample rate: live that is wall
time, and an offline run, however fast, fires the same timers after the same blocks.

A timer started in `process` counts from the end of the block being processed; one
started in another callback, from the samples delivered so far; one started in a timer's
function, from the sample at which that timer was due, so a timer that re-arms itself
keeps its period exactly. Due timers run in order of their due sample (then of their
start). An exception in a function goes to `threading.excepthook` (by default printed to
the script's stderr as "Exception in thread ..."), and the processor goes on. Timers live
in the interpreter: a restart drops them, and a new `PyProcessor` (a reload, a new
stream) cancels those started before it.

`threading.Thread(...).start()` raises a RuntimeError saying so; nothing else of
`threading` changes (locks, events and the rest work as in any single thread).
"""

import heapq
import math
import sys
import threading

__all__ = ["Timer", "CLOCK", "install"]

RUNTIME_PREFIX = "<pyproc>"
_THREADS_UNAVAILABLE = (
    "threads are not available in pyproc's sandbox: {thread!r} cannot start. Use a "
    "threading.Timer instead (its function runs on the processor's own thread between "
    "callbacks, once its interval has passed on the stream's clock), or do the work in process()")


class StreamClock:
    """Samples delivered to `process`, and the timers waiting for them."""

    __slots__ = ("delivered", "rate", "next_due", "_firing_at", "_waiting", "_started")

    def __init__(self):
        self.delivered = 0            # samples delivered so far, including a block being processed
        self.rate = 0.0               # samples per second
        self.next_due = math.inf      # the earliest due sample of a waiting timer
        self._firing_at = None        # the due sample of the timer whose function is running
        self._waiting = []            # heap of (due sample, start order, timer)
        self._started = 0

    def now(self):
        return self.delivered if self._firing_at is None else self._firing_at

    def schedule(self, timer, seconds):
        due = self.now() + round(seconds * self.rate) if math.isfinite(seconds) else math.inf
        self._started += 1
        heapq.heappush(self._waiting, (due, self._started, timer))
        self.next_due = self._waiting[0][0]
        return due

    def waiting(self):
        """The timers started and not yet run or cancelled."""
        return [timer for _, _, timer in self._waiting if timer.is_alive()]

    def run_due(self):
        """Runs every timer due by now, including those their functions start, in order."""
        waiting = self._waiting
        while waiting and waiting[0][0] <= self.delivered:
            due, _, timer = heapq.heappop(waiting)
            if timer.finished.is_set():
                continue  # cancelled
            self._firing_at = due
            try:
                timer._fire()
            finally:
                self._firing_at = None
        self.next_due = waiting[0][0] if waiting else math.inf

    def cancel(self, timers):
        for timer in timers:
            timer.cancel()
        self._waiting = [entry for entry in self._waiting if not entry[2].finished.is_set()]
        heapq.heapify(self._waiting)
        self.next_due = self._waiting[0][0] if self._waiting else math.inf


CLOCK = StreamClock()

_INITIAL, _WAITING, _RUNNING, _DONE = range(4)


class Timer(threading.Timer):
    """`threading.Timer(interval, function, args=None, kwargs=None)`, run on the stream's
    clock (see the module's doc)."""

    _pyproc_state = _INITIAL

    def start(self):
        if self._pyproc_state != _INITIAL:
            raise RuntimeError("threads can only be started once")
        if type(self).run is not Timer.run:
            raise RuntimeError(
                f"{type(self).__name__} overrides run(): pyproc runs a timer's function on the "
                f"processor's own thread between callbacks, so a run() that waits (such as "
                f"`while not self.finished.wait(self.interval)`) cannot work there. For a "
                f"periodic timer, start a new threading.Timer at the end of the function instead")
        seconds = _seconds(self.interval)
        self._started.set()  # as after Thread.start: `daemon` can no longer change
        self._pyproc_state = _WAITING
        CLOCK.schedule(self, seconds)

    def run(self):
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()

    def _fire(self):
        self._pyproc_state = _RUNNING
        try:
            self.run()
        except BaseException as exc:
            _report(exc, self)
        finally:
            self._pyproc_state = _DONE
            self.finished.set()

    def is_alive(self):
        return self._pyproc_state == _RUNNING or (self._pyproc_state == _WAITING and not self.finished.is_set())

    def join(self, timeout=None):
        """Returns at once: the function runs only between callbacks, so waiting for it
        inside one would wait for ever. `is_alive()` says whether it has run."""
        if self._pyproc_state == _INITIAL:
            raise RuntimeError("cannot join thread before it is started")
        if self._pyproc_state == _RUNNING:
            raise RuntimeError("cannot join current thread")

    def __repr__(self):
        status = {_INITIAL: "initial", _WAITING: "started", _RUNNING: "started", _DONE: "stopped"}[self._pyproc_state]
        if self._pyproc_state == _WAITING and self.finished.is_set():
            status = "stopped"
        return f"<{type(self).__name__}({self.name}, {status}{' daemon' if self.daemon else ''})>"


def _seconds(interval):
    """The interval as seconds (None waits for ever, as `Event.wait(None)` does)."""
    if interval is None:
        return math.inf
    try:
        seconds = float(interval)
    except (TypeError, ValueError):
        raise TypeError(f"threading.Timer interval must be a number of seconds, got {interval!r}") from None
    if math.isnan(seconds):
        raise ValueError("threading.Timer interval is NaN")
    return max(seconds, 0.0)


def _report(exc, timer):
    """As an exception escaping a thread: through `threading.excepthook`, without pyproc's
    own frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(RUNTIME_PREFIX):
        tb = tb.tb_next
    exc.__traceback__ = tb
    try:
        threading.excepthook(threading.ExceptHookArgs([type(exc), exc, tb, timer]))
    except BaseException as hook_failed:
        # A script's own hook that fails: say both, as Python does for a failing hook.
        print(f"Exception in threading.excepthook: {hook_failed!r}; the timer raised {exc!r}", file=sys.stderr)


def _refuse_thread_start(self):
    raise RuntimeError(_THREADS_UNAVAILABLE.format(thread=self))


def install():
    """Puts pyproc's Timer in `threading` and makes `Thread.start` refuse clearly."""
    threading.Timer = Timer
    threading.Thread.start = _refuse_thread_start

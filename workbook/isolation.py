"""Read untrusted files in a child process, with a memory limit (POSIX) and a time limit (everywhere).

A reader that a file makes allocate without end, crash or hang takes down its child, never the service
(docs/hazards.md 25). One child serves a whole batch, one file at a time, so that a burst of returns pays
for one process, not fifty (read_in_children: one child per core, each with its share of the batch); when a
file kills it, the file is reported and a fresh child reads the next.
On POSIX the children are forked from a server process that imported the readers once (multiprocessing's
"forkserver": never a fork of the service's own threads); on Windows each child is spawned, and only the
time limit holds.
"""
from __future__ import annotations

import faulthandler
import multiprocessing
import os
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.reduction import ForkingPickler
from typing import Any

CAN_START_PROCESSES = sys.platform not in ("emscripten", "wasi")
# What a child imports before any file arrives: the readers, the checks and the merge's input.
PRELOAD = ["branchbook.workbook.intake", "branchbook.workbook.annotate"]


@dataclass(frozen=True)
class ReaderLimits:
    memory_mb: float | None  # the child's address space (RLIMIT_AS); None: no limit
    seconds: float  # one file's time


class ReaderFailed(Exception):
    """The child could not read the file: `kind` is "memory" (it exhausted its memory), "crash" (the
    reader stopped the process), "timeout", or "error" (the reader raised; `detail` holds the traceback)."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)  # the child's traceback, for the errors log
        self.kind, self.detail = kind, detail


def _context():
    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "win32" or "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    if threading.active_count() == 1 and "fork" in methods:
        return multiprocessing.get_context("fork")  # a one-thread command (merge): a plain fork is safe and instant
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


# How often an idle child looks whether the process that started it is still there. A forked child holds copies
# of its parent's pipe ends (and of its siblings'), so a parent killed with SIGKILL leaves it no end of file to see:
# it is adopted by another process instead, which it notices.
PARENT_CHECK_SECONDS = 1.0


def _limit_memory(memory_mb: float | None) -> None:
    if not memory_mb:
        return
    try:
        import resource
    except ImportError:  # Windows: no resource limits here; the time limit still holds
        return
    # On top of what the child holds already (a forked child shares its parent's mappings): the reading's own.
    limit = _address_space() + int(memory_mb * 2**20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _address_space() -> int:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):  # not Linux: the limit is the reading's alone
        return 0


def _serve(connection, memory_mb: float | None, parent: int | None = None) -> None:
    """The child: read tasks (function, args, kwargs) until told to stop, answering each; it ends when it is no longer
    the child of `parent` (default: its parent as it starts), i.e. when that process is gone."""
    _limit_memory(memory_mb)
    # A native reader that aborts prints its own backtrace: the service logs the failure in its words instead.
    faulthandler.disable()
    with open(os.devnull, "wb") as quiet:
        os.dup2(quiet.fileno(), 2)
    parent = parent or os.getppid()
    while True:
        try:
            while not connection.poll(PARENT_CHECK_SECONDS):
                if os.getppid() != parent:
                    return  # the process that started us was killed: nobody is left to send or to read
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        if task[0] == "batch":
            _serve_batch(connection, *task[1:])
            continue
        function, args, kwargs = task
        try:
            answer = ("ok", function(*args, **kwargs))
        except MemoryError:
            answer = ("memory", "")
        except BaseException:  # noqa: BLE001 - the parent decides what a failure means
            answer = ("error", traceback.format_exc())
        try:
            connection.send(answer)
        except MemoryError:
            connection.send(("memory", ""))
        except Exception:  # noqa: BLE001 - an answer that cannot cross is a failure to read
            connection.send(("error", traceback.format_exc()))


def _answer(function, args, kwargs) -> tuple[str, Any]:
    try:
        return "ok", function(*args, **kwargs)
    except MemoryError:
        return "memory", ""
    except BaseException:  # noqa: BLE001 - the parent decides what a failure means
        return "error", traceback.format_exc()


def _serve_batch(connection, function, shared: dict, items: list[tuple[int, bytes]]) -> None:
    """A batch, one file after the other with no wait for the parent between them: "start" before each
    (so that the parent knows which file a crash belongs to), "done" after, "end" at the end."""
    for index, payload in items:
        connection.send(("start", index))
        try:
            args, kwargs = ForkingPickler.loads(payload)
        except Exception:  # noqa: BLE001 - what cannot be read is a failure to read this file only
            status, value = "error", traceback.format_exc()
        else:
            status, value = _answer(function, args, {**shared, **kwargs})
        try:
            connection.send(("done", index, status, value))
        except MemoryError:
            connection.send(("done", index, "memory", ""))
        except Exception:  # noqa: BLE001 - an answer that cannot cross is a failure to read
            connection.send(("done", index, "error", traceback.format_exc()))
    connection.send(("end",))


class IsolatedReader:
    """`with IsolatedReader(limits) as reader: reader.run(function, *args)`: function(*args) in the child,
    its result or ReaderFailed. The function must be importable by name (it is sent by reference)."""

    def __init__(self, limits: ReaderLimits):
        self.limits = limits
        self._process = None
        self._connection = None
        self._abandoned = False

    def __enter__(self) -> IsolatedReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Start the child now (else it starts with the first file): read_in_children starts every child from
        the calling thread, before the threads that wait on them, so that a one-thread command forks plainly."""
        if CAN_START_PROCESSES and self._process is None:
            self._start()

    def _start(self) -> None:
        context = _context()
        ours, theirs = context.Pipe()
        # A forked child's parent is this process, named here: read in the child, it may already be another (this
        # one killed before the child ran). From a fork server, the server is the parent (the child reads it).
        parent = os.getpid() if context.get_start_method() == "fork" else None
        process = context.Process(target=_serve, args=(theirs, self.limits.memory_mb, parent), daemon=True,
                                  name="branchbook-reader")
        process.start()
        theirs.close()
        self._process, self._connection = process, ours

    def _discard(self) -> int | None:
        """End the child (killed if it will not stop) and say how it ended."""
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            connection.close()
        if process is None:
            return None
        process.join(timeout=0.5)
        if process.is_alive():
            process.kill()
            process.join()
        code = process.exitcode
        process.close()
        return code

    def run(self, function, *args: Any, **kwargs: Any) -> Any:
        if not CAN_START_PROCESSES:  # Pyodide (xlwings Lite): no processes at all; the checks before parsing still hold
            return function(*args, **kwargs)
        if self._process is None:
            self._start()
        try:
            task = ForkingPickler.dumps((function, args, kwargs))
        except Exception:  # noqa: BLE001 - what cannot be sent is a failure to read, not of the pass
            raise ReaderFailed("error", traceback.format_exc()) from None
        try:
            self._connection.send_bytes(task)
            answered = self._connection.poll(self.limits.seconds)
            if not answered:
                self._process.kill()
                self._discard()
                raise ReaderFailed("timeout")
            status, value = self._connection.recv()
        except (EOFError, OSError, BrokenPipeError):
            # The child died: a native reader aborts when an allocation fails under the limit.
            code = self._discard()
            raise ReaderFailed("crash", f"exit code {code}") from None
        if status == "ok":
            return value
        if status == "memory":
            self._discard()  # a child that ran out of memory is not trusted with the next file
        raise ReaderFailed(status, value)

    def run_batch(self, function, shared: dict, calls: list[tuple[tuple, dict]],
                  on_start: Callable[[int], None] | None = None) -> list[Any]:
        """function(*args, **shared, **kwargs) for each (args, kwargs) of `calls`, in the child, one after the
        other without a round trip between them: a list of results, a ReaderFailed in the place of each call
        that failed. `on_start(i)` is called as the child begins call i. A call that kills the child or runs
        out of time is its own failure; the calls after it go to a fresh child."""
        results: list[Any] = [None] * len(calls)
        payloads: list[tuple[int, bytes]] = []
        for index, call in enumerate(calls):
            try:
                payloads.append((index, bytes(ForkingPickler.dumps(call))))
            except Exception:  # noqa: BLE001 - what cannot be sent is a failure to read that file only
                results[index] = ReaderFailed("error", traceback.format_exc())
        if not CAN_START_PROCESSES:
            for index, _ in payloads:
                args, kwargs = calls[index]
                results[index] = function(*args, **shared, **kwargs)
            return results
        while payloads and not self._abandoned:
            payloads = self._batch(function, shared, payloads, results, on_start)
        return results

    def abandon(self) -> None:
        """Stop reading (from another thread: the one waiting in run_batch gets a crash and starts no other child)."""
        self._abandoned = True
        process = self._process
        if process is not None:
            try:
                process.kill()
            except (ValueError, OSError):  # ended meanwhile, closed by the waiting thread
                pass

    def _batch(self, function, shared: dict, payloads: list[tuple[int, bytes]], results: list[Any],
               on_start: Callable[[int], None] | None) -> list[tuple[int, bytes]]:
        """Send the payloads to the child and gather their results; what is left when the child fails."""
        if self._process is None:
            self._start()
        current = payloads[0][0]
        try:
            self._connection.send(("batch", function, shared, payloads))
            while True:
                if not self._connection.poll(self.limits.seconds):
                    self._process.kill()
                    self._discard()
                    results[current] = ReaderFailed("timeout")
                    break
                message = self._connection.recv()
                if message[0] == "start":
                    current = message[1]
                    if on_start:
                        on_start(current)
                elif message[0] == "done":
                    _, index, status, value = message
                    results[index] = value if status == "ok" else ReaderFailed(status, value)
                else:
                    return []
        except (EOFError, OSError):
            code = self._discard()  # the child died with `current` (a native reader aborts under the limit)
            results[current] = ReaderFailed("crash", f"exit code {code}")
        return [(index, payload) for index, payload in payloads if index > current]

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.send(None)
            except OSError:
                pass
        self._discard()


def read_in_children(limits: ReaderLimits, function, shared: dict, calls: list[tuple[tuple, dict]],
                     on_start: Callable[[int], None] | None = None, workers: int | None = None,
                     meanwhile: Callable[[], None] | None = None) -> list[Any]:
    """run_batch's results for `calls`, read by one child per core (at most one per call), each child taking every
    `workers`-th call: a burst of returns is read on every core, as the roll-up reads its masters (docs/design.md,
    "Reading received files"). Each child has the limits, and a failure is its call's alone, as in run_batch.
    `on_start(i)` (i: the call's place in `calls`) is called from the threads that wait on the children, as each
    begins: what it touches needs a lock. `meanwhile()` runs in this thread while the children read."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(calls)))
    results: list[Any] = [None] * len(calls)
    failures: list[BaseException] = []
    readers = [IsolatedReader(limits) for _ in range(workers if calls else 0)]

    def read_share(first: int, reader: IsolatedReader) -> None:
        numbers = list(range(first, len(calls), workers))
        started = None if on_start is None else (lambda index: on_start(numbers[index]))
        try:
            for number, outcome in zip(numbers, reader.run_batch(function, shared, [calls[n] for n in numbers],
                                                                 on_start=started)):
                results[number] = outcome
        except BaseException as error:  # noqa: BLE001 - raised again in the calling thread
            failures.append(error)

    threads = [threading.Thread(target=read_share, args=(first, reader), name=f"branchbook reader {first}",
                                daemon=True) for first, reader in enumerate(readers)]
    try:
        for reader in readers:
            reader.start()  # before any waiting thread: see IsolatedReader.start
        for thread in threads:
            thread.start()
        if meanwhile is not None:
            meanwhile()
    except BaseException:
        for reader in readers:  # an interrupted command does not wait for every file to be read
            reader.abandon()
        raise
    finally:
        for thread in threads:
            if thread.ident is not None:
                thread.join()
        for reader in readers:
            reader.close()
    if failures:
        raise failures[0]
    return results


def limits_of(memory_mb: float | None, seconds: float) -> ReaderLimits:
    return ReaderLimits(memory_mb if memory_mb and os.name == "posix" else None, seconds)

"""A command run on a pseudo-terminal, as a user runs it: read what it prints, type, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Self

DEADLINE = 30.0


class Terminal:
    """``lambdagraph ARGS`` on a pty of its own (its stdin is a terminal, so ``input()``
    reads a line as in a shell), in a session of its own so Ctrl-C can reach it."""

    def __init__(self, args: Sequence[str]) -> None:
        self._master, slave = os.openpty()
        command = "import sys; from lambdagraph_client.cli import main; sys.exit(main())"
        self.process = subprocess.Popen(
            [sys.executable, "-c", command, *args],
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True, close_fds=True,
        )
        os.close(slave)
        self._output = bytearray()
        self._changed = threading.Condition()
        self._closed = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(DEADLINE)
        os.close(self._master)

    @property
    def output(self) -> str:
        """Everything printed so far."""
        with self._changed:
            return self._output.decode(errors="replace")

    def expect(self, text: str) -> str:
        """Wait until ``text`` has been printed; everything printed so far."""
        deadline = time.monotonic() + DEADLINE
        with self._changed:
            while text not in self._output.decode(errors="replace"):
                left = deadline - time.monotonic()
                if left <= 0 or self._closed.is_set():
                    raise AssertionError(f"{text!r} never printed; got:\n{self._output.decode()}")
                self._changed.wait(left)
            return self._output.decode(errors="replace")

    def type(self, line: str) -> None:
        """Type ``line`` and Enter."""
        os.write(self._master, line.encode() + b"\n")

    def ctrl_c(self) -> None:
        """What Ctrl-C does: SIGINT to the terminal's foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def wait(self) -> int:
        """The exit status (fails if the command does not end in time)."""
        status = self.process.wait(DEADLINE)
        self._closed.wait(DEADLINE)  # the reader has everything the process printed
        return status

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 4096)
            except OSError:  # EIO: the process closed the terminal
                chunk = b""
            with self._changed:
                self._output += chunk
                if not chunk:
                    self._closed.set()
                self._changed.notify_all()
            if not chunk:
                return

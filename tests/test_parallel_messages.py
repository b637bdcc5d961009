"""The parsing process's messages arrive whole, or the load fails saying why.

A pipe write that blocks and is interrupted by a signal returns part-way; CPython's buffered
writer lost bytes then, and a load whose parsing process was stopped and continued (Ctrl-Z and
`fg`, a profiler attaching) read damaged messages. These tests interrupt a writer with signals
and check every message, and feed the loading process damaged streams.
"""

from __future__ import annotations

import hashlib
import io
import queue
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest

from identity_graph.config import Config
from identity_graph.errors import InputError
from identity_graph.loaders.parallel import (
    MAX_MESSAGE_BYTES,
    DamagedMessage,
    ParallelBatches,
    read_message,
)

MESSAGES = 60

# Writes MESSAGES messages of 0.5-2 MB to stdout with `write_message`, with a handler for
# SIGUSR1 so that the signal interrupts a blocked write instead of ending the process.
WRITER = f"""
import hashlib, os, signal, sys
from identity_graph.loaders.parallel import write_message
signal.signal(signal.SIGUSR1, lambda *_: None)
for i in range({MESSAGES}):
    block = hashlib.sha256(str(i).encode()).digest()
    write_message(sys.stdout.fileno(), block * (16_000 + 48_000 * (i % 4) // 3))
sys.stdin.read()  # until the test has stopped signalling
"""


def expected(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest() * (16_000 + 48_000 * (i % 4) // 3)


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="needs POSIX signals")
def test_messages_arrive_whole_while_signals_interrupt_the_writer() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdin is not None and child.stdout is not None
    done = threading.Event()

    def interrupt() -> None:
        time.sleep(0.3)  # past the interpreter's start, so the handler is installed
        while not done.is_set():
            child.send_signal(signal.SIGUSR1)
            time.sleep(0.002)

    signaller = threading.Thread(target=interrupt)
    signaller.start()
    received = []
    try:
        for i in range(MESSAGES):
            received.append(read_message(child.stdout) == expected(i))
            time.sleep(0.01)  # a slow reader: the writer blocks on a full pipe
    finally:
        done.set()
        signaller.join()
        child.stdin.close()
        child.stdout.close()
        child.wait(timeout=10)
    assert all(received), f"{received.count(False)} of {MESSAGES} messages arrived changed"
    assert child.returncode == 0


def framed(data: bytes, crc: int | None = None, size: int | None = None) -> bytes:
    header = struct.pack(
        "<QI", len(data) if size is None else size, zlib.crc32(data) if crc is None else crc
    )
    return header + data


def test_a_message_that_fails_its_checksum_is_damaged() -> None:
    with pytest.raises(DamagedMessage, match="checksum"):
        read_message(io.BytesIO(framed(b"payload", crc=zlib.crc32(b"other"))))


def test_an_impossible_length_is_damaged_without_allocating_it() -> None:
    with pytest.raises(DamagedMessage, match="header gives"):
        read_message(io.BytesIO(framed(b"", size=MAX_MESSAGE_BYTES + 1)))


def test_a_stream_that_ends_inside_a_message_is_its_end() -> None:
    assert read_message(io.BytesIO(framed(b"whole"))) == b"whole"
    with pytest.raises(EOFError):
        read_message(io.BytesIO(framed(b"cut short")[:-3]))
    with pytest.raises(EOFError):
        read_message(io.BytesIO(b"\x01\x02"))


@pytest.mark.parametrize(
    ("stream", "reason"),
    [
        (framed(b"not what was sent", crc=1), "failed its checksum"),
        (framed(b"", size=2**63), "header gives"),
    ],
)
def test_a_damaged_stream_fails_the_load_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stream: bytes, reason: str
) -> None:
    """A stand-in for the parsing process writes `stream`; the load must stop with a clear
    error (before the fix, a damaged header killed the reading thread and the load waited
    forever)."""
    out = tmp_path / "stream.bin"
    out.write_bytes(stream)
    fake = tmp_path / "fake-python"
    fake.write_text(f"#!/bin/sh\ncat > /dev/null\ncat '{out}'\n", encoding="utf-8")
    fake.chmod(0o755)
    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "identify", "userId": "u1", "messageId": "m1"}\n')
    monkeypatch.setattr(sys, "executable", str(fake))
    reader = ParallelBatches(events, fmt="segment", source="s", config=Config())
    results: queue.Queue[BaseException | None] = queue.Queue()

    def run() -> None:
        try:
            list(reader)
            results.put(None)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            results.put(e)

    threading.Thread(target=run, daemon=True).start()
    error = results.get(timeout=30)
    assert isinstance(error, InputError)
    assert "output could not be read" in str(error) and reason in str(error)
    assert str(events) in str(error)

"""The coalescing transport over a real socket: one send per loop turn, nothing lost at close."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from gateway.http.coalescing import CoalescingTransport


@pytest.fixture
async def pair() -> AsyncIterator[tuple[CoalescingTransport, socket.socket]]:
    """A CoalescingTransport over one end of a socket pair, and the other end to read from."""
    ours, theirs = socket.socketpair()
    theirs.setblocking(False)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
    coalescing = CoalescingTransport(transport, loop)
    yield coalescing, theirs
    transport.close()
    theirs.close()


def _pending_bytes(peer: socket.socket) -> bytes:
    try:
        return peer.recv(65536)
    except BlockingIOError:
        return b""


async def test_writes_of_one_turn_leave_together_at_its_end(pair: tuple[CoalescingTransport, socket.socket]) -> None:
    """Status line and body written in one turn reach the peer as one piece, after the turn."""
    transport, peer = pair
    transport.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"{}")
    assert _pending_bytes(peer) == b"", "nothing is sent before the turn ends"
    assert transport.get_write_buffer_size() == 46
    await asyncio.sleep(0.01)
    assert _pending_bytes(peer) == b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}"


async def test_close_sends_what_was_written_first(pair: tuple[CoalescingTransport, socket.socket]) -> None:
    """A close right after a write (Connection: close) still delivers the answer."""
    transport, peer = pair
    transport.write(b"answer")
    transport.close()
    await asyncio.sleep(0.01)
    assert _pending_bytes(peer) == b"answer"
    assert transport.is_closing()


async def test_abort_drops_what_was_not_sent(pair: tuple[CoalescingTransport, socket.socket]) -> None:
    """An abort discards pending writes, as a plain transport's abort discards its buffer."""
    transport, peer = pair
    transport.write(b"never")
    transport.abort()
    await asyncio.sleep(0.01)
    assert _pending_bytes(peer) == b""

"""SessionLink against a real relay: records both ways, close, resume after a relay restart, wrong codes."""

from __future__ import annotations

import asyncio

import pytest
from opensupport.link import LinkState, RelayRefused, SessionLink
from opensupport.protocol import (
    AuthenticationFailed,
    ChatMessage,
    CodeDead,
    CodeGuard,
    Event,
    Role,
    SessionCode,
)
from relay_proc import RelayProcess


class Peer:
    """A link with a queue of the events it received."""

    def __init__(self, role: Role, code: SessionCode, url: str, guard: CodeGuard | None = None) -> None:
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.states: list[LinkState] = []
        self.link = SessionLink(
            role, code, url, self.events.put_nowait, guard=guard, on_state=lambda s, _: self.states.append(s)
        )
        self.task = asyncio.create_task(self.link.run())

    async def chat(self, timeout: float = 10.0) -> str:
        while True:
            event = await asyncio.wait_for(self.events.get(), timeout)
            if isinstance(event, ChatMessage):
                return event.text

    async def until_connected(self, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not self.link.established:
                await asyncio.sleep(0.01)


async def test_chat_both_ways_and_close_by_host(relay: RelayProcess) -> None:
    code = SessionCode.generate()
    host = Peer(Role.HOST, code, relay.url)
    viewer = Peer(Role.VIEWER, code, relay.url)
    await host.until_connected()
    await viewer.until_connected()
    assert viewer.link.send(ChatMessage("안녕하세요 from the viewer"))
    assert await host.chat() == "안녕하세요 from the viewer"
    assert host.link.send(ChatMessage("hello from the host"))
    assert await viewer.chat() == "hello from the host"
    host.link.close("the customer ended the session")
    host_result = await asyncio.wait_for(host.task, 10)
    viewer_result = await asyncio.wait_for(viewer.task, 10)
    assert not host_result.closed_by_peer
    assert viewer_result.closed_by_peer
    assert viewer_result.reason == "the customer ended the session"
    assert viewer.states[-1] is LinkState.CLOSED


async def test_relay_restart_resumes_the_session(relay: RelayProcess) -> None:
    code = SessionCode.generate()
    host = Peer(Role.HOST, code, relay.url)
    viewer = Peer(Role.VIEWER, code, relay.url)
    await host.until_connected()
    await viewer.until_connected()
    await asyncio.to_thread(relay.kill)
    # Sent while the relay is down: reliable messages wait for the resume and arrive exactly once.
    await asyncio.sleep(0.2)
    assert host.link.send(ChatMessage("sent during the outage"))
    await asyncio.to_thread(relay.start)
    assert await viewer.chat(timeout=20) == "sent during the outage"
    await host.until_connected()
    await viewer.until_connected()
    assert host.link.resumes >= 1 and viewer.link.resumes >= 1
    assert viewer.link.session is not None and viewer.link.connections >= 2
    viewer.link.send(ChatMessage("after the resume"))
    assert await host.chat() == "after the resume"
    viewer.link.close("done")
    await asyncio.wait_for(asyncio.gather(host.task, viewer.task), 10)


async def test_wrong_codes_fail_the_host_and_kill_the_code_after_five(relay: RelayProcess) -> None:
    code = SessionCode.generate()
    guard = CodeGuard()
    viewer = Peer(Role.VIEWER, code, relay.url, guard=guard)
    wrong = SessionCode(code.routing_id, "0" * 8 if code.secret != "0" * 8 else "1" * 8)
    for attempt in range(1, 6):
        host = Peer(Role.HOST, wrong, relay.url)
        with pytest.raises(AuthenticationFailed):  # WrongCode; the 5th hears CodeDead
            await asyncio.wait_for(host.task, 10)
        if attempt < 5:
            async with asyncio.timeout(10):
                while guard.failures < attempt:
                    await asyncio.sleep(0.01)
            assert not viewer.task.done()
    with pytest.raises(CodeDead):
        await asyncio.wait_for(viewer.task, 10)
    assert guard.dead
    # The relay refuses the retired routing id from now on, to anyone.
    late_host = Peer(Role.HOST, code, relay.url)
    with pytest.raises(RelayRefused) as refused:
        await asyncio.wait_for(late_host.task, 10)
    assert "no longer valid" in str(refused.value)


async def test_input_and_cursor_overtake_a_large_frame(relay: RelayProcess) -> None:
    import os

    from opensupport.protocol import CursorPosition, KeyEvent, ScreenUpdate

    code = SessionCode.generate()
    host = Peer(Role.HOST, code, relay.url)
    viewer = Peer(Role.VIEWER, code, relay.url)
    await host.until_connected()
    await viewer.until_connected()
    assert host.link.send(ScreenUpdate(os.urandom(8 * 1024 * 1024), keyframe=True))
    await asyncio.sleep(0.02)  # the frame is on its way: records of it are in the socket already
    assert host.link.send(CursorPosition(12, 34))
    assert viewer.link.send(KeyEvent(ord("k"), True))
    order: list[str] = []
    async with asyncio.timeout(30):
        while len(order) < 2:
            event = await viewer.events.get()
            if isinstance(event, ScreenUpdate | CursorPosition):
                order.append(type(event).__name__)
    assert order == ["CursorPosition", "ScreenUpdate"]
    # ... and the viewer's key reached the host without waiting for the frame's acknowledgement either.
    async with asyncio.timeout(10):
        while True:
            event = await host.events.get()
            if isinstance(event, KeyEvent):
                break
    viewer.link.close("done")
    await asyncio.wait_for(asyncio.gather(host.task, viewer.task), 10)


async def test_a_waiting_host_survives_a_relay_restart(relay: RelayProcess) -> None:
    code = SessionCode.generate()
    host = Peer(Role.HOST, code, relay.url)
    async with asyncio.timeout(10):
        while LinkState.WAITING not in host.states:
            await asyncio.sleep(0.01)
    await asyncio.to_thread(relay.kill)
    await asyncio.sleep(0.2)
    await asyncio.to_thread(relay.start)
    async with asyncio.timeout(10):
        while host.link.connections < 2:
            await asyncio.sleep(0.01)
    viewer = Peer(Role.VIEWER, code, relay.url)  # the agent's viewer arrives after the restart
    await host.until_connected()
    await viewer.until_connected()
    viewer.link.send(ChatMessage("found you"))
    assert await host.chat() == "found you"
    host.link.close("done")
    await asyncio.wait_for(asyncio.gather(host.task, viewer.task), 10)

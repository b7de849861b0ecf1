"""Headless Chromium driven over the Chrome DevTools Protocol, just enough for page tests.

Debian's ``chromium`` is started with a throwaway profile and no background networking; one
page is opened and every request it makes, every console message and every exception is
recorded, so a test can assert that nothing left the machine and nothing was refused.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--remote-debugging-port=0",
    "--window-size=1400,900",
)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Page:
    connection: ClientConnection
    session_id: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self.connection.send(
            json.dumps(
                {"id": message_id, "method": method, "params": params, "sessionId": self.session_id}
            )
        )
        async with asyncio.timeout(30):
            return await future

    def dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message and message["id"] in self._pending:
            future = self._pending.pop(message["id"])
            if "error" in message:
                future.set_exception(RuntimeError(f"CDP error: {message['error']}"))
            else:
                future.set_result(message.get("result", {}))
            return
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            text = " ".join(
                str(arg.get("value", arg.get("description", ""))) for arg in params["args"]
            )
            self.console.append(f"{params['type']}: {text}")
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.console.append(f"{entry['level']}: {entry['text']}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.exceptions.append(details.get("exception", {}).get("description", details["text"]))

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, *, seconds: float = 20) -> Any:
        """Polls a page expression until it is truthy; returns its value."""
        async with asyncio.timeout(seconds):
            while True:
                value = await self.evaluate(expression)
                if value:
                    return value
                await asyncio.sleep(0.1)

    async def click(self, selector: str) -> None:
        found = await self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return false; e.click(); return true; })()"
        )
        if not found:
            raise AssertionError(f"nothing on the page matches {selector}")

    async def type_into(self, selector: str, text: str) -> None:
        """Focuses an editor, selects all it holds, and types ``text`` over it."""
        await self.click(selector)
        await self.evaluate(
            f"document.querySelector({json.dumps(selector)}).querySelector('textarea')?.focus()"
        )
        for kind in ("rawKeyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                modifiers=2,  # Ctrl
                key="a",
                code="KeyA",
                windowsVirtualKeyCode=65,
            )
        await self.send("Input.insertText", text=text)

    async def screenshot(self) -> bytes:
        shot = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])


@contextlib.asynccontextmanager
async def browser_page() -> AsyncIterator[Page]:
    executable = chromium_path()
    assert executable is not None
    with tempfile.TemporaryDirectory(
        prefix="chromium-profile-", ignore_cleanup_errors=True
    ) as profile:
        # Its own process group, so that its helper processes end with it.
        process = await asyncio.create_subprocess_exec(
            executable,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            endpoint = await _devtools_endpoint(Path(profile))
            async with connect(endpoint, max_size=None) as connection:
                page = await _open_page(connection)
                reader = asyncio.create_task(_read(connection, page))
                try:
                    for domain in ("Page", "Network", "Runtime", "Log"):
                        await page.send(f"{domain}.enable")
                    yield page
                finally:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            async with asyncio.timeout(10):
                await process.wait()


async def _devtools_endpoint(profile: Path) -> str:
    marker = profile / "DevToolsActivePort"
    for _ in range(600):
        lines = marker.read_text().splitlines() if marker.exists() else []
        if len(lines) >= 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        await asyncio.sleep(0.05)
    raise TimeoutError("chromium did not open its DevTools port within 30 s")


async def _open_page(connection: ClientConnection) -> Page:
    async def call(message_id: int, method: str, **params: Any) -> dict[str, Any]:
        await connection.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(await connection.recv())
            if reply.get("id") == message_id:
                result: dict[str, Any] = reply["result"]
                return result

    target = await call(1, "Target.createTarget", url="about:blank")
    attached = await call(2, "Target.attachToTarget", targetId=target["targetId"], flatten=True)
    return Page(connection=connection, session_id=attached["sessionId"])


async def _read(connection: ClientConnection, page: Page) -> None:
    async for raw in connection:
        message = json.loads(raw)
        if message.get("sessionId") == page.session_id:
            page.dispatch(message)

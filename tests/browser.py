"""Headless Chromium for tests: a page's DOM after rendering, a real screenshot, and its colours.

A page is a file, or the address of a web application (the Prefect UI); ``settle_ms`` lets such a
page fetch its data and render it first (Chromium's virtual time: it waits while requests are pending).

A chart that the browser could not load leaves no pixel of its colour in the screenshot, so
counting pixels of a chart's colour checks that it rendered (not only that the tag is there).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import shutil
import struct
import subprocess
import urllib.request
import zlib
from collections import Counter
from pathlib import Path

import pytest
import websockets.sync.client

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def _chromium(args: list[str], profile: Path) -> str:
    if not shutil.which(CHROMIUM):
        pytest.fail("chromium no está instalado (scripts/bootstrap.sh --test lo instala)")
    return subprocess.run([CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=True).stdout


def _address(page: Path | str) -> str:
    return page if isinstance(page, str) else page.resolve().as_uri()


def _settled(settle_ms: int | None) -> list[str]:
    return [] if settle_ms is None else [f"--virtual-time-budget={settle_ms}"]


def dump_dom(page: Path | str, profile: Path, settle_ms: int | None = None) -> str:
    return _chromium([*_settled(settle_ms), "--dump-dom", _address(page)], profile)


def visible_text(dom: str) -> str:
    """The DOM's text as a reader sees it: without tags, scripts or styles, spaces collapsed."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", dom).split())


def screenshot(page: Path | str, png: Path, profile: Path, size: tuple[int, int] = (1000, 1400),
               scale: float = 0.5, settle_ms: int | None = None) -> Path:
    _chromium([*_settled(settle_ms), f"--window-size={size[0]},{size[1]}", f"--force-device-scale-factor={scale}",
               f"--screenshot={png}", _address(page)], profile)
    assert png.stat().st_size > 0
    return png


def colours(png: Path) -> Counter:
    """How many pixels of each RGB colour an 8-bit RGB/RGBA PNG has (what Chromium writes)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, width = 8, b"", 0
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            width, _height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour_type in (2, 6)
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    raw, stride = zlib.decompress(idat), width * channels
    counts: Counter = Counter()
    previous = bytearray(stride)
    for start in range(0, len(raw), stride + 1):
        row = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous, channels)
        counts.update(zip(row[0::channels], row[1::channels], row[2::channels]))
        previous = row
    return counts


def _unfilter(kind: int, row: bytearray, up: bytearray, bpp: int) -> bytearray:
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        if kind == 1:
            row[i] = (row[i] + left) & 0xFF
        elif kind == 2:
            row[i] = (row[i] + up[i]) & 0xFF
        elif kind == 3:
            row[i] = (row[i] + (left + up[i]) // 2) & 0xFF
        elif kind == 4:
            corner = up[i - bpp] if i >= bpp else 0
            p = left + up[i] - corner
            pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - corner)
            row[i] = (row[i] + (left if pa <= pb and pa <= pc else up[i] if pb <= pc else corner)) & 0xFF
    return row


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


class DevicePage:
    """A page opened in headless Chromium driven over the DevTools protocol, with a device's
    screen emulated (width, height, mobile): what a phone or a laptop lays out, and scripts run in it.

    Use as a context manager; ``evaluate`` returns a script's value (awaiting a promise)."""

    def __init__(self, profile: Path, width: int, height: int, mobile: bool):
        self.profile, self.size, self.mobile = profile, (width, height), mobile

    def __enter__(self) -> DevicePage:
        if not shutil.which(CHROMIUM):
            pytest.fail("chromium no está instalado (scripts/bootstrap.sh --test lo instala)")
        self.profile.mkdir(parents=True, exist_ok=True)
        (self.profile / "DevToolsActivePort").unlink(missing_ok=True)
        self.process = subprocess.Popen([CHROMIUM, *_FLAGS, f"--user-data-dir={self.profile}",
                                         "--remote-debugging-port=0", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = self._debugging_port()
        targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30).read())
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websockets.sync.client.connect(page["webSocketDebuggerUrl"], max_size=None,
                                                     open_timeout=30)
        self._ids = itertools.count(1)
        width, height = self.size
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=self.mobile)
        return self

    def __exit__(self, *exc: object) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)

    def _debugging_port(self) -> int:
        """Chromium writes the port it listens on into the profile once it is ready."""
        active = self.profile / "DevToolsActivePort"
        for _ in range(600):
            if active.exists() and active.read_text().strip():
                return int(active.read_text().split()[0])
            if self.process.poll() is not None:
                pytest.fail("chromium terminó antes de abrir el puerto de depuración")
            self._pause()
        pytest.fail("chromium no abrió el puerto de depuración")

    def _pause(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=0.1)

    def send(self, method: str, **params: object) -> dict:
        ident = next(self._ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=120))
            if message.get("id") == ident:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]

    def open(self, page: Path) -> DevicePage:
        """Load ``page`` and wait until it and its images have loaded."""
        self.send("Page.navigate", url=page.resolve().as_uri())
        self.evaluate("new Promise(done => { if (document.readyState === 'complete') done(true);"
                      " else window.addEventListener('load', () => done(true)); })")
        return self

    def evaluate(self, script: str) -> object:
        result = self.send("Runtime.evaluate", expression=script, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{script[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

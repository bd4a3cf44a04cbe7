"""A stand-in for an Arduino's serial bootloader (optiboot's STK500v1 subset) on the master side of a pty, so
`microlearn flash` runs the real avrdude end to end: avrdude writes and verifies its pages, and `flash` keeps
what was written for the test to compare with the .hex. Only the commands avrdude 7's `-c arduino` sends."""
from __future__ import annotations

import os
import threading

INSYNC, OK = 0x14, 0x10
GET_SYNC, GET_PARAMETER, SET_DEVICE, SET_DEVICE_EXT = 0x30, 0x41, 0x42, 0x45
ENTER_PROGMODE, LEAVE_PROGMODE, LOAD_ADDRESS, UNIVERSAL = 0x50, 0x51, 0x55, 0x56
PROG_PAGE, READ_PAGE, READ_SIGN, CRC_EOP = 0x64, 0x74, 0x75, 0x20
SET_DEVICE_BYTES = 20          # STK500 SET_DEVICE's parameter block
SW_VERSION = {0x81: 8, 0x82: 0}  # optiboot 8.0: avrdude then sends SET_DEVICE_EXT with its length byte
UNKNOWN_PARAMETER = 3          # what optiboot answers for any other parameter
FLASH_MEMTYPE = ord("F")
ERASED = 0xFF
SIGNATURES = {"atmega328p": b"\x1e\x95\x0f", "atmega2560": b"\x1e\x98\x01"}


def intel_hex_image(text: str) -> bytes:
    """The bytes an Intel HEX file puts in flash from address 0 (gaps erased)."""
    image = bytearray()
    for line in text.split():
        if line[7:9] != "00":            # data records only (the AVR .hex has no extended addresses < 64 KB)
            continue
        addr, data = int(line[3:7], 16), bytes.fromhex(line[9:-2])
        if len(image) < addr + len(data):
            image.extend(bytes([ERASED]) * (addr + len(data) - len(image)))
        image[addr:addr + len(data)] = data
    return bytes(image)


class FakeOptiboot(threading.Thread):
    def __init__(self, fd: int, signature: bytes = SIGNATURES["atmega328p"]):
        super().__init__(daemon=True)
        self.fd, self.signature = fd, signature
        self.flash, self.addr = bytearray(), 0

    def _read(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = os.read(self.fd, n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def _reply(self, payload: bytes = b"") -> None:
        os.write(self.fd, bytes([INSYNC]) + payload + bytes([OK]))

    def _page(self, n: int, data: bytes | None = None) -> bytes:
        end = self.addr + n
        if len(self.flash) < end:
            self.flash.extend(bytes([ERASED]) * (end - len(self.flash)))
        if data is not None:
            self.flash[self.addr:end] = data
        return bytes(self.flash[self.addr:end])

    def run(self) -> None:
        try:
            while True:
                cmd = self._read(1)[0]
                if cmd in (GET_SYNC, ENTER_PROGMODE, LEAVE_PROGMODE):
                    self._read(1)
                    self._reply()
                elif cmd == GET_PARAMETER:
                    self._reply(bytes([SW_VERSION.get(self._read(2)[0], UNKNOWN_PARAMETER)]))
                elif cmd == SET_DEVICE:
                    self._read(SET_DEVICE_BYTES + 1)
                    self._reply()
                elif cmd == SET_DEVICE_EXT:
                    self._read(self._read(1)[0])     # length = parameters + 1: the parameters, then EOP
                    self._reply()
                elif cmd == LOAD_ADDRESS:            # a word address
                    a = self._read(3)
                    self.addr = 2 * (a[0] | a[1] << 8)
                    self._reply()
                elif cmd == UNIVERSAL:
                    self._read(5)
                    self._reply(b"\x00")
                elif cmd == PROG_PAGE:
                    h = self._read(3)
                    data = self._read(h[0] << 8 | h[1])
                    self._read(1)
                    if h[2] == FLASH_MEMTYPE:
                        self._page(len(data), data)
                    self._reply()
                elif cmd == READ_PAGE:
                    h = self._read(4)
                    n = h[0] << 8 | h[1]
                    self._reply(self._page(n) if h[2] == FLASH_MEMTYPE else bytes([ERASED]) * n)
                elif cmd == READ_SIGN:
                    self._read(1)
                    self._reply(self.signature)
                elif cmd != CRC_EOP:
                    self._reply()
        except (OSError, EOFError):      # the test closed the pty
            pass

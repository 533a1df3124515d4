"""A pyusb `IBackend` skeleton for devices that live in Python (replay and emulator).

Why: pyusb lets any object implementing `usb.backend.IBackend` stand in for libusb, so the
*unmodified* driver and transport run against a recorded session or the 4500 emulator; only
the transfers differ.  This module does the common part: parse raw descriptors (the bytes in a
umockdev `device` file or `lsusb -v`), answer the descriptor/configuration/claim calls the
pyusb core makes, serve standard GET_DESCRIPTOR requests (strings included), and route vendor
control transfers and endpoint reads to two hooks a subclass implements.
"""

from __future__ import annotations

import array
import errno
import struct
from dataclasses import dataclass, field
from typing import Any, Optional

import usb.backend
import usb.core

_DEV = struct.Struct("<BBHBBBBHHHBBBB")
_CFG = struct.Struct("<BBHBBBBB")
_INTF = struct.Struct("<BBBBBBBBB")
_EP = struct.Struct("<BBBBHB")


class _Desc:
    """Attribute bag with the exact field names the pyusb core reads."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> Any:  # only reached for a field the descriptor lacks
        raise AttributeError(name)


@dataclass
class Interface:
    desc: _Desc
    endpoints: list[_Desc] = field(default_factory=list)


@dataclass
class Configuration:
    desc: _Desc
    interfaces: list[list[Interface]] = field(default_factory=list)  # [number][alt]


def parse_descriptors(raw: bytes, bus: int = 1, address: int = 1) -> tuple[_Desc, list[Configuration]]:
    """Raw device + configuration descriptors -> pyusb-shaped descriptor objects.

    Raises ValueError on truncated or malformed descriptors (callers turn it into their error).
    """
    if len(raw) < 18 or raw[1] != 1:
        raise ValueError("descriptor blob does not start with a device descriptor")
    f = _DEV.unpack_from(raw, 0)
    dev = _Desc(bLength=f[0], bDescriptorType=f[1], bcdUSB=f[2], bDeviceClass=f[3], bDeviceSubClass=f[4],
                bDeviceProtocol=f[5], bMaxPacketSize0=f[6], idVendor=f[7], idProduct=f[8], bcdDevice=f[9],
                iManufacturer=f[10], iProduct=f[11], iSerialNumber=f[12], bNumConfigurations=f[13],
                address=address, bus=bus, port_number=None, port_numbers=None, speed=None)
    configs: list[Configuration] = []
    pos = f[0]
    current_cfg: Optional[Configuration] = None
    current_intf: Optional[Interface] = None
    while pos + 2 <= len(raw):
        length, dtype = raw[pos], raw[pos + 1]
        if length < 2 or pos + length > len(raw):
            raise ValueError(f"truncated descriptor at byte {pos}")
        chunk = raw[pos : pos + length]
        if dtype == 2 and length >= 9:
            c = _CFG.unpack_from(chunk, 0)
            current_cfg = Configuration(_Desc(bLength=c[0], bDescriptorType=c[1], wTotalLength=c[2],
                                              bNumInterfaces=c[3], bConfigurationValue=c[4], iConfiguration=c[5],
                                              bmAttributes=c[6], bMaxPower=c[7], extra_descriptors=[]))
            configs.append(current_cfg)
        elif dtype == 4 and length >= 9 and current_cfg is not None:
            i = _INTF.unpack_from(chunk, 0)
            current_intf = Interface(_Desc(bLength=i[0], bDescriptorType=i[1], bInterfaceNumber=i[2],
                                           bAlternateSetting=i[3], bNumEndpoints=i[4], bInterfaceClass=i[5],
                                           bInterfaceSubClass=i[6], bInterfaceProtocol=i[7], iInterface=i[8],
                                           extra_descriptors=[]))
            while len(current_cfg.interfaces) <= i[2]:
                current_cfg.interfaces.append([])
            current_cfg.interfaces[i[2]].append(current_intf)
        elif dtype == 5 and length >= 7 and current_intf is not None:
            e = _EP.unpack_from(chunk, 0)  # bLength, type, address, attributes, maxpacket, interval
            current_intf.endpoints.append(_Desc(bLength=e[0], bDescriptorType=e[1], bEndpointAddress=e[2],
                                                bmAttributes=e[3], wMaxPacketSize=e[4], bInterval=e[5],
                                                bRefresh=0, bSynchAddress=0, extra_descriptors=[]))
        pos += length
    if not configs:
        raise ValueError("no configuration descriptor")
    return dev, configs


def usb_error(message: str, code: int, err: Optional[int]) -> usb.core.USBError:
    """The exception pyusb's libusb1 backend would raise for libusb error `code`."""
    if code == -7:
        return usb.core.USBTimeoutError(message, code, err)
    return usb.core.USBError(message, code, err)


def enodev() -> usb.core.USBError:
    return usb_error("No such device (it may have been disconnected)", -4, errno.ENODEV)


class FakeDevice:
    """One device on the fake bus: descriptors, strings and a little state."""

    def __init__(self, raw: bytes, strings: dict[int, str], bus: int = 1, address: int = 1,
                 configuration: int = 1) -> None:
        self.raw = bytes(raw)
        self.desc, self.configs = parse_descriptors(self.raw, bus, address)
        self.strings = strings
        self.configuration = configuration  # 0 = unconfigured
        self.claimed: set[int] = set()

    def string_descriptor(self, index: int) -> bytes:
        if index == 0:
            return bytes([4, 3, 0x09, 0x04])  # LANGID en-US
        text = self.strings.get(index)
        if text is None:
            raise usb_error("Pipe error", -9, errno.EPIPE)
        body = text.encode("utf-16-le")[:252]
        return bytes([len(body) + 2, 3]) + body


class FakeBackend(usb.backend.IBackend):  # type: ignore[misc]  # pyusb ships no type information
    """Serves a list of `FakeDevice`s; subclasses implement `vendor_control` and `read_endpoint`."""

    def __init__(self) -> None:
        super().__init__()
        self.devices: list[FakeDevice] = []

    # -- enumeration and descriptors
    def enumerate_devices(self) -> Any:
        return list(self.devices)

    def get_device_descriptor(self, dev: FakeDevice) -> Any:
        return dev.desc

    def get_configuration_descriptor(self, dev: FakeDevice, config: int) -> Any:
        try:
            return dev.configs[config].desc
        except IndexError:
            raise IndexError("no such configuration") from None

    def get_interface_descriptor(self, dev: FakeDevice, intf: int, alt: int, config: int) -> Any:
        return dev.configs[config].interfaces[intf][alt].desc

    def get_endpoint_descriptor(self, dev: FakeDevice, ep: int, intf: int, alt: int, config: int) -> Any:
        return dev.configs[config].interfaces[intf][alt].endpoints[ep]

    def get_parent(self, dev: FakeDevice) -> Any:
        return None

    # -- handles
    def open_device(self, dev: FakeDevice) -> Any:
        self.check_present(dev)
        return dev

    def close_device(self, dev_handle: FakeDevice) -> None:
        dev_handle.claimed.clear()

    def set_configuration(self, dev_handle: FakeDevice, config_value: int) -> None:
        self.check_present(dev_handle)
        dev_handle.configuration = config_value

    def get_configuration(self, dev_handle: FakeDevice) -> int:
        self.check_present(dev_handle)
        return dev_handle.configuration

    def set_interface_altsetting(self, dev_handle: FakeDevice, intf: int, altsetting: int) -> None:
        self.check_present(dev_handle)

    def claim_interface(self, dev_handle: FakeDevice, intf: int) -> None:
        self.check_present(dev_handle)
        dev_handle.claimed.add(intf)

    def release_interface(self, dev_handle: FakeDevice, intf: int) -> None:
        dev_handle.claimed.discard(intf)

    def clear_halt(self, dev_handle: FakeDevice, ep: int) -> None:
        self.check_present(dev_handle)

    def reset_device(self, dev_handle: FakeDevice) -> None:
        self.check_present(dev_handle)

    def is_kernel_driver_active(self, dev_handle: FakeDevice, intf: int) -> bool:
        return False

    def detach_kernel_driver(self, dev_handle: FakeDevice, intf: int) -> None:
        return None

    def attach_kernel_driver(self, dev_handle: FakeDevice, intf: int) -> None:
        return None

    # -- transfers
    def ctrl_transfer(self, dev_handle: FakeDevice, bmRequestType: int, bRequest: int, wValue: int,
                      wIndex: int, data: Any, timeout: int) -> int:
        self.check_present(dev_handle)
        is_in = bool(bmRequestType & 0x80)
        if (bmRequestType & 0x60) == 0 and bRequest == 6 and is_in:  # standard GET_DESCRIPTOR
            kind, index = wValue >> 8, wValue & 0xFF
            if kind == 1:
                blob = dev_handle.raw[: dev_handle.desc.bLength]
            elif kind == 2:
                start = dev_handle.desc.bLength
                blob = dev_handle.raw[start : start + dev_handle.configs[0].desc.wTotalLength]
            elif kind == 3:
                blob = dev_handle.string_descriptor(index)
            else:
                raise usb_error("Pipe error", -9, errno.EPIPE)
            blob = blob[: len(data)]
            data[: len(blob)] = array.array("B", blob)
            return len(blob)
        if is_in:
            answer = self.vendor_control(dev_handle, bmRequestType, bRequest, wValue, wIndex, len(data), b"", timeout)
            answer = answer[: len(data)]
            data[: len(answer)] = array.array("B", answer)
            return len(answer)
        self.vendor_control(dev_handle, bmRequestType, bRequest, wValue, wIndex, len(data), bytes(data), timeout)
        return len(data)

    def bulk_write(self, dev_handle: FakeDevice, ep: int, intf: int, data: Any, timeout: int) -> int:
        self.check_present(dev_handle)
        return self.write_endpoint(dev_handle, ep, bytes(data), timeout)

    def intr_write(self, dev_handle: FakeDevice, ep: int, intf: int, data: Any, timeout: int) -> int:
        self.check_present(dev_handle)
        return self.write_endpoint(dev_handle, ep, bytes(data), timeout)

    def intr_read(self, dev_handle: FakeDevice, ep: int, intf: int, buff: Any, timeout: int) -> int:
        return self._fill(dev_handle, ep, buff, timeout)

    def bulk_read(self, dev_handle: FakeDevice, ep: int, intf: int, buff: Any, timeout: int) -> int:
        return self._fill(dev_handle, ep, buff, timeout)

    def _fill(self, dev_handle: FakeDevice, ep: int, buff: Any, timeout: int) -> int:
        self.check_present(dev_handle)
        data = self.read_endpoint(dev_handle, ep, len(buff), timeout)[: len(buff)]
        buff[: len(data)] = array.array("B", data)
        return len(data)

    # -- hooks
    def check_present(self, dev: FakeDevice) -> None:
        """Raise ENODEV when `dev` has been unplugged (emulator); replay devices never leave."""

    def vendor_control(self, dev: FakeDevice, request_type: int, request: int, value: int, index: int,
                       length: int, data: bytes, timeout: int) -> bytes:
        raise usb_error("Pipe error", -9, errno.EPIPE)

    def read_endpoint(self, dev: FakeDevice, ep: int, size: int, timeout: int) -> bytes:
        raise usb_error("Pipe error", -9, errno.EPIPE)

    def write_endpoint(self, dev: FakeDevice, ep: int, data: bytes, timeout: int) -> int:
        raise usb_error("Pipe error", -9, errno.EPIPE)

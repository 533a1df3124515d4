"""The SecuGen driver against a tiny fake FDx SDK built from C here (skipped without a compiler)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from siaptui.devices import base
from siaptui.devices.drivers.secugen import SecuGenScanner
from siaptui.devices.registry import open_scanner

FAKE_SDK = r"""
#include <stdlib.h>
#include <string.h>
typedef unsigned long DWORD;
typedef struct {
  DWORD DeviceID; unsigned char DeviceSN[16]; DWORD ComPort; DWORD ComSpeed;
  DWORD ImageWidth; DWORD ImageHeight; DWORD Contrast; DWORD Brightness; DWORD Gain;
  DWORD ImageDPI; DWORD FWVersion;
} SGDeviceInfoParam;
static int opened = 0, grabs = 0, quality_calls = 0;
static DWORD env(const char *name, DWORD fallback) {
  const char *v = getenv(name); return v ? (DWORD)strtoul(v, 0, 10) : fallback;
}
DWORD SGFPM_Create(void **h) { *h = (void *)0x5ec; return 0; }
DWORD SGFPM_Init(void *h, DWORD dev) { return dev == 0xFF ? env("FAKE_SG_INIT", 0) : 61; }
DWORD SGFPM_OpenDevice(void *h, DWORD port) {
  DWORD err = env("FAKE_SG_OPEN", 0);
  if (err) return err;
  if (opened) return 59;
  opened = 1; grabs = 0; quality_calls = 0; return 0;
}
DWORD SGFPM_GetDeviceInfo(void *h, SGDeviceInfoParam *p) {
  memset(p, 0, sizeof *p);
  p->ImageWidth = env("FAKE_SG_W", 300); p->ImageHeight = env("FAKE_SG_H", 400); p->ImageDPI = 500;
  memcpy(p->DeviceSN, "H5800012345", 11); return 0;
}
static void paint(unsigned char *b, DWORD w, DWORD hh) {
  for (DWORD y = 0; y < hh; y++) for (DWORD x = 0; x < w; x++) b[y * w + x] = (unsigned char)((x + 2 * y) & 0xFF);
}
DWORD SGFPM_GetImageEx(void *h, unsigned char *b, DWORD timeout, void *wnd, DWORD quality) {
  if (++grabs <= env("FAKE_SG_WAIT", 2)) return 54;
  paint(b, env("FAKE_SG_W", 300), env("FAKE_SG_H", 400)); return env("FAKE_SG_GRAB", 0);
}
DWORD SGFPM_GetImage(void *h, unsigned char *b) { paint(b, env("FAKE_SG_W", 300), env("FAKE_SG_H", 400)); return 0; }
DWORD SGFPM_GetImageQuality(void *h, DWORD w, DWORD hh, unsigned char *b, DWORD *q) {
  *q = ++quality_calls < 3 ? 80 : 0; return 0;
}
DWORD SGFPM_CloseDevice(void *h) { opened = 0; return 0; }
DWORD SGFPM_Terminate(void *h) { return 0; }
"""


@pytest.fixture(scope="module")
def fake_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or not sys.platform.startswith("linux"):
        pytest.skip("no C compiler to build the fake SecuGen SDK")
    folder = tmp_path_factory.mktemp("sgfake")
    (folder / "fake.c").write_text(FAKE_SDK)
    lib = folder / "libsgfplib.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-o", str(lib), str(folder / "fake.c")], check=True)
    return lib


def test_capture_reads_size_and_dpi_from_the_sdk(fake_sdk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SG_W", "260")
    monkeypatch.setenv("FAKE_SG_H", "300")
    with open_scanner(f"secugen:{fake_sdk}") as scanner:
        assert scanner.wait_finger(timeout=2)
        frame = scanner.capture(timeout=2)
        assert scanner.wait_finger_off(timeout=2)
    assert frame.pixels.shape == (300, 260) and frame.dpi == 500
    x, y = 7, 11
    assert frame.pixels[y, x] == (x + 2 * y) & 0xFF
    assert frame.device.driver == "secugen" and frame.device.serial == "H5800012345"


@pytest.mark.parametrize("env, code, error", [
    ("FAKE_SG_OPEN", "55", base.DeviceNotFound),
    ("FAKE_SG_OPEN", "59", base.DeviceBusy),
    ("FAKE_SG_OPEN", "58", base.DeviceTimeout),
    ("FAKE_SG_INIT", "56", base.VendorSdkMissing),
    ("FAKE_SG_INIT", "502", base.VendorSdkMissing),
])
def test_sdk_error_codes_map_to_our_errors(fake_sdk: Path, monkeypatch: pytest.MonkeyPatch, env: str, code: str,
                                           error: type) -> None:
    monkeypatch.setenv(env, code)
    with pytest.raises(error) as info:
        SecuGenScanner(library=str(fake_sdk)).open()
    assert code in info.value.params["detail"]


def test_wrong_image_is_a_capture_failure(fake_sdk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SG_GRAB", "57")
    with SecuGenScanner(library=str(fake_sdk)) as scanner:
        with pytest.raises(base.CaptureFailed):
            scanner.wait_finger(timeout=2)


def test_cancel_stops_waiting(fake_sdk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SG_WAIT", "1000000")
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    with SecuGenScanner(library=str(fake_sdk)) as scanner:
        assert scanner.wait_finger(timeout=None, cancel=cancel) is False


def test_missing_sdk_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(base.VendorSdkMissing) as info:
        SecuGenScanner(library=str(tmp_path / "libsgfplib.so")).open()
    from siaptui.errors import describe

    message, fix = describe(info.value)
    assert "SecuGen FDx SDK Pro" in fix and "libsgfplib.so" in fix

"""The `sim` scanner: real timing semantics, cancel, scripted trouble, demo workers' fingers."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from siaptui.devices.base import DeviceNotFound, Frame, Scanner
from siaptui.devices.sim import Practice, SimOptionError, SimScanner, seed_for_nss
from siaptui.errors import describe


@pytest.fixture(autouse=True)
def _no_practice_script():
    Practice.reset()
    yield
    Practice.reset()


def _fast(**options) -> SimScanner:
    return SimScanner(arrive_s=0.0, capture_ms=0.0, lift_s=0.0, **options)


def _place(scanner: SimScanner) -> Frame:
    assert scanner.wait_finger(timeout=5)
    frame = scanner.capture(timeout=5)
    assert scanner.wait_finger_off(timeout=5)
    return frame


def test_a_placement_cycle_gives_a_500_dpi_frame() -> None:
    with SimScanner(arrive_s=0.05, capture_ms=20, lift_s=0.05) as scanner:
        assert isinstance(scanner, Scanner)
        assert not scanner.finger_on
        assert scanner.wait_finger(timeout=5)
        assert scanner.finger_on
        frame = scanner.capture()
        again = scanner.capture()  # live preview: same placement, same image
        assert scanner.wait_finger_off(timeout=5)
    assert frame.pixels.dtype == np.uint8 and frame.pixels.shape == (400, 300)
    assert frame.dpi == 500 and frame.capture_ms >= 20
    assert frame.device.spec == "sim" and frame.device.driver == "sim" and frame.device.vid == 0
    assert "simulado" in frame.device.model
    assert np.array_equal(frame.pixels, again.pixels)


def test_each_placement_is_a_new_impression_and_the_sequence_repeats() -> None:
    """A scanner opened again (the capture screen entered again to recapture a worker) is served
    the finger's next impressions, as a real reader would be; each run repeats the sequence."""
    from siaptui.synth import finger_image

    one = _fast(person_seed=1001)
    first = [_place(one).pixels for _ in range(2)]
    again = _place(_fast(person_seed=1001)).pixels
    assert not np.array_equal(first[0], first[1])
    assert np.array_equal(again, finger_image(1001, 2, 2))
    Practice.reset()  # what a new process starts from
    assert np.array_equal(_place(_fast(person_seed=1001)).pixels, first[0])


def test_present_switches_person_and_finger() -> None:
    from siaptui.synth import finger_image

    scanner = _fast()
    scanner.present(1003, 7)
    assert np.array_equal(_place(scanner).pixels, finger_image(1003, 7, 0))
    scanner.present_worker("56987800424", 2)  # José Luis, a demo worker (person_seed 1015)
    assert scanner.presented == (1015, 2)
    assert np.array_equal(_place(scanner).pixels, finger_image(1015, 2, 0))


def test_impersonate_serves_another_persons_fingers() -> None:
    from siaptui.synth import finger_image

    scanner = _fast(impersonate=1001)
    scanner.present_worker("34109056787", 2)
    assert np.array_equal(_place(scanner).pixels, finger_image(1001, 2, 0))


def test_seed_for_unknown_nss_is_stable_and_apart_from_demo_seeds() -> None:
    assert seed_for_nss("12058512349") == 1001
    assert seed_for_nss("99999999999") == seed_for_nss("9999 9999 999") >= 10**6


def test_trouble_reaches_the_image() -> None:
    from siaptui.synth import finger_image

    scanner = _fast(person_seed=1002, trouble="dry")
    assert np.array_equal(_place(scanner).pixels, finger_image(1002, 2, 0, "dry"))
    scanner.set_trouble(None)
    assert np.array_equal(_place(scanner).pixels, finger_image(1002, 2, 1))


def test_wait_finger_honours_timeout_and_cancel() -> None:
    scanner = SimScanner(arrive_s=30.0)
    scanner.open()
    assert scanner.wait_finger(timeout=0.1) is False
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    started = time.monotonic()
    assert scanner.wait_finger(timeout=None, cancel=cancel) is False
    assert time.monotonic() - started < 10  # returned on cancel, not after arrive_s
    scanner.close()
    scanner.close()  # idempotent


def test_missing_reader_fails_like_an_unplugged_one() -> None:
    scanner = SimScanner(missing=True)
    with pytest.raises(DeviceNotFound) as caught:
        scanner.open()
    message, fix = describe(caught.value)
    assert "No se encontró ningún lector" in message and "sim" in message
    assert "siaptui doctor" in fix


@pytest.mark.parametrize("options", [{"trouble": "sticky"}, {"finger": 11}, {"arrive_s": "x"}])
def test_bad_options_give_a_spanish_message_with_the_fix(options: dict) -> None:
    with pytest.raises(SimOptionError) as caught:
        SimScanner(**options)
    message, fix = describe(caught.value)
    assert "lector simulado" in message and "Ajustes" in fix


def test_registry_builds_the_sim_scanner_with_options() -> None:
    from siaptui.devices.registry import open_scanner

    scanner = open_scanner("sim", trouble="light", arrive_s=0, capture_ms=0, lift_s=0)
    assert isinstance(scanner, SimScanner) and scanner.trouble == "light"


def test_practice_script_reaches_scanners_without_explicit_options() -> None:
    from siaptui.synth import finger_image

    Practice.set(trouble="dry", impersonate=1003)
    scanner = _fast()
    scanner.present_worker("12058512349", 2)
    assert np.array_equal(_place(scanner).pixels, finger_image(1003, 2, 0, "dry"))
    assert _fast(trouble=None, impersonate=None).trouble is None  # explicit options win
    Practice.set(missing=True)
    with pytest.raises(DeviceNotFound):
        _fast().open()
    Practice.reset()
    _fast().open()
    with pytest.raises(SimOptionError):
        Practice.set(trouble="sticky")


def test_master_is_built_while_the_finger_arrives() -> None:
    """The slow part (the master print) overlaps the arrival wait; the capture reuses it."""
    from siaptui import synth

    synth.master.cache_clear()
    scanner = SimScanner(person_seed=4242, finger=3, arrive_s=0.05, capture_ms=0, lift_s=0)
    assert scanner.wait_finger(timeout=5)
    scanner._join_warm_up()
    assert synth.master.cache_info().currsize == 1
    frame = scanner.capture()
    assert synth.master.cache_info().misses == 1  # built once, by the warm-up
    assert np.array_equal(frame.pixels, synth.finger_image(4242, 3, 0))


def test_a_finger_slower_than_the_poll_still_arrives_for_a_polling_caller() -> None:
    """The capture screen polls `wait_finger(timeout=0.5)`; a 0.6 s arrival must not restart each poll."""
    with SimScanner(arrive_s=0.6, capture_ms=1.0, lift_s=0.6, trouble=None) as scanner:
        polls = 0
        while not scanner.wait_finger(timeout=0.25):
            polls += 1
            assert polls < 8, "the finger never arrived"
        assert polls >= 1
        scanner.capture(timeout=1.0)
        lifts = 0
        while not scanner.wait_finger_off(timeout=0.25):
            lifts += 1
            assert lifts < 8, "the finger never lifted"

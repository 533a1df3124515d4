"""Camera specs, the still and folder cameras, the errors a clerk reads, `siaptui photo` and the
camera in `siaptui doctor`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from siaptui import cli
from siaptui.camera.base import CameraExtraMissing, CameraNotFound, CameraSpecInvalid
from siaptui.camera.registry import camera_extra_installed, needs_opencv, open_camera, split
from siaptui.errors import explain


@pytest.fixture(scope="module")
def astronaut_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("faces") / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


def test_specs_like_the_scanner_s() -> None:
    assert split("image:/a:b.png") == ("image", "/a:b.png")
    assert split("folder:fotos") == ("folder", "fotos")
    assert split("sim") == ("sim", "")
    assert split("auto") == ("webcam", "auto") and split("2") == ("webcam", "2")
    specs = ("auto", "0", "/dev/video1", "sim", "image:x.png")
    assert [needs_opencv(s) for s in specs] == [True, True, True, False, False]
    with pytest.raises(CameraSpecInvalid):
        open_camera("webcam-please")
    with pytest.raises(CameraSpecInvalid):
        open_camera("image:")


def test_without_opencv_a_webcam_is_a_typed_error_with_the_install_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cv2", None)
    assert not camera_extra_installed()
    with pytest.raises(CameraExtraMissing) as caught:
        open_camera("0").open()
    assert "pip install 'siaptui[camera]'" in explain(caught.value)
    with open_camera("sim") as camera:  # the cameras that need no OpenCV still work
        assert camera.read().shape == (480, 640, 3)


def test_opencv_is_imported_only_for_a_webcam() -> None:
    import subprocess

    code = ("import sys\nfrom siaptui.camera.registry import open_camera\n"
            "c = open_camera('sim'); c.read()\nprint('cv2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_path_that_is_no_camera_is_not_found(tmp_path: Path) -> None:
    pytest.importorskip("cv2", reason="a device path is opened by OpenCV (the camera extra), not installed here")
    for spec in (str(tmp_path / "video9"), "/dev/null"):
        with pytest.raises(CameraNotFound) as caught:
            open_camera(spec).open()
        assert caught.value.code == "camera_not_found" and "siaptui doctor" in explain(caught.value)
    with pytest.raises(CameraNotFound) as caught:
        open_camera(f"image:{tmp_path / 'nope.png'}").open()
    assert caught.value.code == "camera_file_missing"


def test_the_folder_camera_serves_pictures_in_name_order_and_loops(tmp_path: Path) -> None:
    from PIL import Image

    for name, grey in (("b.png", 20), ("a.png", 10)):
        Image.fromarray(np.full((4, 4, 3), grey, np.uint8)).save(tmp_path / name)
    with open_camera(f"folder:{tmp_path}") as camera:
        assert [int(camera.read()[0, 0, 0]) for _ in range(3)] == [10, 20, 10]


def test_photo_command_writes_the_token_and_one_json_line(astronaut_file: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "x.jpg"
    code = cli.main(["photo", "--camera", f"image:{astronaut_file}", "--out", str(out), "--json"])
    record = json.loads(capsys.readouterr().out.strip())
    for key in ("face_found", "faces", "eye_distance_px", "centred", "brightness", "sharpness", "width", "height",
                "bytes"):
        assert key in record
    assert record["face_found"] and record["faces"] == 1 and (record["width"], record["height"]) == (240, 320)
    assert record["bytes"] == out.stat().st_size and out.read_bytes()[:2] == b"\xff\xd8"
    assert code == (0 if all(record["checks"].values()) else 3)  # the astronaut's background is not plain
    assert not record["checks"]["plain_background"] and code == 3


def test_photo_command_on_the_sim_camera_passes_every_check(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sim.jpg"
    assert cli.main(["photo", "--camera", "sim", "--out", str(out)]) == 0
    assert "240×320" in capsys.readouterr().out and out.is_file()


def test_photo_command_without_a_face_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from PIL import Image

    wall = tmp_path / "wall.png"
    Image.fromarray(np.full((480, 640, 3), 200, np.uint8)).save(wall)
    out = tmp_path / "none.jpg"
    assert cli.main(["photo", "--camera", f"image:{wall}", "--out", str(out)]) == 1
    assert "No se encontró una cara" in capsys.readouterr().err and not out.exists()


def test_doctor_reports_the_camera_and_its_fix(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["doctor", "--device", "sim", "--camera", "sim", "--json"]) == 0
    findings = {f["code"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    assert findings["camera_ok"]["message"] == "Cámara lista: sim (640×480)."
    monkeypatch.setitem(sys.modules, "cv2", None)
    assert cli.main(["doctor", "--device", "sim", "--camera", "auto", "--json"]) == 0  # the scanner is fine
    problem = {f["code"]: f for f in json.loads(capsys.readouterr().out)["findings"]}["camera_problem"]
    assert problem["severity"] == "warning" and "siaptui[camera]" in problem["fix"]

"""The office's local ghost check and the portal's server-side check give the same answer.

Both call `siaptui.biometrics.person.search_one`; what could still make them disagree is what
each holds.  So the same enrollments — synthetic persons, real extraction, several impressions a
finger sent as the views of one ISO record — go to the local gallery (`gallery_record`, the
path the submit screen takes) and to the real sandbox over HTTP, and every verdict is compared.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from siaptui.biometrics.person import PersonGallery
from siaptui.biometrics.template import to_iso19794_2_views, views_from_bytes
from siaptui.enrollment.flow import Flow, WorkerData
from siaptui.enrollment.protocol import Enrollment
from siaptui.portal import errors as perr
from siaptui.portal.client import PortalClient
from tests.portal.conftest import enrollment, new_key

POSITIONS = (2, 7)  # both index fingers: two fingers can raise the alarm, one never does
IMPRESSIONS = 2


@pytest.fixture(scope="module")
def captured() -> Dict[int, Dict[int, List[Any]]]:
    """person seed → position → extracted impressions (fresh placements per visit)."""
    from siaptui import synth
    from siaptui.biometrics.extract import extract

    out: Dict[int, Dict[int, List[Any]]] = {}
    for person, first in ((501, 0), (502, 0), (501, 4)):  # 501 comes back with new impressions
        key = person * 10 + first
        out[key] = {p: [extract(synth.finger_image(person, p, first + n), dpi=synth.DPI) for n in range(IMPRESSIONS)]
                    for p in POSITIONS}
    return out


def _local_verdict(gallery: PersonGallery, nss: str, fingers: Dict[int, List[Any]]) -> bool:
    flow = Flow()
    flow.worker = WorkerData(nss=nss, curp="", name="", confirmed=True)
    capture = Enrollment(flow, impressions=IMPRESSIONS, threshold=0.0)  # keep every impression
    for position, impressions in fingers.items():
        for template in impressions:
            capture.add_impression(position, template, 80)
    flagged = bool(capture.search_gallery(gallery))
    for position, record in capture.gallery_record().items():
        for view in views_from_bytes(record):
            gallery.add(nss, position, view)
    return flagged


def _request(worker: Dict[str, Any], fingers: Dict[int, List[Any]]) -> Any:
    from siaptui.portal.models import FingerRecord

    request = enrollment(worker, positions=())
    request.fingers = [FingerRecord(p, to_iso19794_2_views(views, p), 80) for p, views in fingers.items()]
    return request


async def test_local_and_portal_checks_agree_on_every_enrollment(sandbox, credential, workers, captured) -> None:
    visits = [(workers[0], 5010), (workers[1], 5020), (workers[2], 5014)]  # the third is 501 again
    local = PersonGallery()
    local_verdicts, portal_verdicts = [], []
    async with PortalClient(sandbox.url, timeout=30.0) as portal:
        await portal.login(credential)
        for worker, key in visits:
            fingers = captured[key]
            local_verdicts.append(_local_verdict(local, str(worker["nss"]), fingers))
            try:
                await portal.submit_enrollment(_request(worker, fingers), new_key())
                portal_verdicts.append(False)
            except perr.DuplicateFinger:
                portal_verdicts.append(True)
    assert local_verdicts == portal_verdicts == [False, False, True]

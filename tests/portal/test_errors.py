"""Every problem code maps to its own error class with catalog text in both languages."""

from __future__ import annotations

import pytest

from siaptui import i18n
from siaptui.errors import describe
from siaptui.portal import errors as perr
from siaptui.portal.sandbox.problems import PROBLEMS


@pytest.mark.parametrize("code", sorted(PROBLEMS))
def test_problem_codes_map_to_classes_with_messages(code: str) -> None:
    status = PROBLEMS[code][0]
    error = perr.from_problem(status, {"code": code, "detail": "detalle", "finger": 7}, retry_after=4)
    assert error.problem_code == code and error.code == f"portal_{code}" and error.status == status
    for lang in ("es", "en"):
        i18n.set_language(lang)
        message, fix = describe(error)
        assert message and fix and "{" not in message + fix and not message.startswith(("Ocurrió", "An unexpected"))


def test_unknown_codes_keep_the_portal_text() -> None:
    newer = perr.from_problem(409, {"code": "something_new", "detail": "texto del portal"})
    assert isinstance(newer, perr.PortalProblem) and "texto del portal" in describe(newer)[0]
    server = perr.from_problem(502, {"title": "Bad gateway"})
    assert isinstance(server, perr.PortalServerError) and server.transient


def test_transient_split() -> None:
    assert perr.PortalOverloaded().transient and perr.PortalUnreachable().transient
    assert perr.PortalBadResponse().transient and perr.SessionExpired().transient
    assert not perr.IdentityMismatch().transient and not perr.CurpNotEligible().transient
    assert not perr.DuplicateFinger().transient and not perr.PortalTLSError().transient


def test_a_deeply_nested_answer_is_a_bad_answer_not_a_recursion_error() -> None:
    """A portal (or a proxy) answering 100,000 nested arrays gets the client's own error."""
    import pytest as _pytest

    from siaptui.portal import errors as perr
    from siaptui.portal.client import PortalClient

    with _pytest.raises(perr.PortalError) as caught:
        PortalClient._json_object(b"[" * 100_000 + b"]" * 100_000, 200)
    assert caught.value.code == "portal_bad_response"

"""CURP, NSS, RFC: normalisation, each rule naming the wrong character, masking."""

from __future__ import annotations

from datetime import date

import pytest

from siaptui import identity
from siaptui.errors import describe
from siaptui.identity import (
    IdentityCharacter,
    IdentityCheckDigit,
    IdentityDate,
    IdentityEmpty,
    IdentityLength,
    IdentityNssYears,
    IdentityState,
    IdentityWord,
)


@pytest.mark.parametrize("text, expected", [
    ("BOXW310820HNERXN09", "BOXW310820HNERXN09"),        # python-stdnum's doctest
    ("boxw 310820-hnerxn09", "BOXW310820HNERXN09"),      # spaces, hyphens, lower case
    ("KAHO641101HNTLKS06", "KAHO641101HNTLKS06"),
    ("CACX760510MGTSHC04", "CACX760510MGTSHC04"),
    ("TODA010730MPLRZNA0", "TODA010730MPLRZNA0"),        # born 2001: letter at 17
    ("CUMA950909XOCRRL00", "CUMA950909XOCRRL00"),        # sex X (since 2022)
])
def test_valid_curps(text: str, expected: str) -> None:
    assert identity.validate_curp(text) == expected


def test_sat_test_curp_needs_lenient_mode() -> None:
    # SAT's own test certificate carries a CURP whose check digit is wrong (expected 7).
    with pytest.raises(IdentityCheckDigit) as caught:
        identity.validate_curp("HEGT761003MDFRNN09")
    assert caught.value.params["expected"] == "7" and caught.value.params["position"] == 18
    assert identity.validate_curp("HEGT761003MDFRNN09", lenient=True) == "HEGT761003MDFRNN09"


def test_lenient_mode_still_checks_everything_else() -> None:
    with pytest.raises(IdentityCharacter):
        identity.validate_curp("HEGT761003QDFRNN09", lenient=True)


@pytest.mark.parametrize("text, error, position", [
    ("HEGT761003QDFRNN07", IdentityCharacter, 11),   # sex must be H, M or X
    ("H3GT761003MDFRNN07", IdentityCharacter, 2),    # letter expected
    ("HEGT7610O3MDFRNN07", IdentityCharacter, 9),    # letter O for zero
    ("HEGT761003MDFRNN0A", IdentityCharacter, 18),   # check digit must be a digit
])
def test_curp_messages_name_the_character(text: str, error: type, position: int) -> None:
    with pytest.raises(error) as caught:
        identity.validate_curp(text)
    assert caught.value.params["position"] == position
    message, fix = describe(caught.value)
    assert f"carácter {position}" in message and text[position - 1] in message
    assert fix


def test_curp_other_rules() -> None:
    with pytest.raises(IdentityLength) as caught:
        identity.validate_curp("HEGT761003MDFRNN0")
    assert caught.value.params["got"] == 17
    with pytest.raises(IdentityDate):
        identity.validate_curp("HEGT761303MDFRNN07")
    with pytest.raises(IdentityState) as state:
        identity.validate_curp("HEGT761003MZZRNN07")
    assert state.value.params["state"] == "ZZ"
    with pytest.raises(IdentityWord):
        identity.validate_curp("BUEY761003MDFRNN07")
    with pytest.raises(IdentityEmpty):
        identity.validate_curp("   ")
    with pytest.raises(IdentityCheckDigit):
        identity.validate_curp("BOXW310820HNERXN08")


def test_check_digit_helpers_match_the_notes() -> None:
    assert identity.curp_check_digit("BOXW310820HNERXN0") == "9"
    assert identity.nss_check_digit("9291908443") == "1"
    assert identity.nss_check_digit("4178761234") == "4"


def test_nss() -> None:
    assert identity.validate_nss("92-91-90-8443-1") == "92919084431"
    assert identity.validate_nss("41787612344") == "41787612344"
    with pytest.raises(IdentityCheckDigit) as caught:
        identity.validate_nss("92919084432")
    assert caught.value.params == {"field": "NSS", "position": 11, "char": "2", "expected": "1"}
    with pytest.raises(IdentityCharacter) as bad:
        identity.validate_nss("9291908A431")
    assert bad.value.params["position"] == 8
    with pytest.raises(IdentityLength):
        identity.validate_nss("9291908443")


def test_nss_years_with_two_digit_centuries() -> None:
    today = date(2026, 6, 1)
    first10 = "1205851234"  # registered 2005, born 1985: fine although 85 > 05
    assert identity.validate_nss(first10 + identity.nss_check_digit(first10), today=today)
    born_after = "1290951234"  # registered 1990, "born" 95: impossible
    with pytest.raises(IdentityNssYears) as caught:
        identity.validate_nss(born_after + identity.nss_check_digit(born_after), today=today)
    assert caught.value.params["born"] == "95" and caught.value.params["registered"] == "90"
    unknown = "1290971234"  # 97 = birth year unknown: always allowed
    assert identity.validate_nss(unknown + identity.nss_check_digit(unknown), today=today)


def test_rfc() -> None:
    assert identity.validate_rfc("GODE561231GR8", check_digit=True) == "GODE561231GR8"
    assert identity.validate_rfc("MAB9307148T4", check_digit=True) == "MAB9307148T4"
    assert identity.validate_rfc("aaa010101aaa") == "AAA010101AAA"   # check digit off by default
    with pytest.raises(IdentityCheckDigit):
        identity.validate_rfc("AAA010101AAA", check_digit=True)
    with pytest.raises(IdentityCharacter) as caught:
        identity.validate_rfc("GODE5612A1GR8")
    assert caught.value.params["position"] == 9
    with pytest.raises(IdentityDate):
        identity.validate_rfc("GODE561331GR8")
    with pytest.raises(IdentityLength):
        identity.validate_rfc("GODE5612")
    with pytest.raises(IdentityCharacter) as homoclave:   # with check digits on: [1-9A-V][1-9A-Z][0-9A]
        identity.validate_rfc("GODE561231ZZ8", check_digit=True)
    assert "homoclave" in describe(homoclave.value)[0]


def test_masks_for_logs() -> None:
    assert identity.mask_curp("HEGT761003MDFRNN09") == "HEGT7610******09"
    assert identity.mask_nss("92919084431") == "9291*****31"
    assert identity.mask_curp("ABC") == "*BC"   # never raises, never shows more than the tail


def test_english_messages() -> None:
    from siaptui import i18n

    i18n.set_language("en")
    with pytest.raises(IdentityCharacter) as caught:
        identity.validate_curp("HEGT761003QDFRNN07")
    assert "character 11" in describe(caught.value)[0]


@pytest.mark.parametrize("module, check, value", [
    ("curp", identity.validate_curp, "BOXW310820HNERXN09"),
    ("rfc", identity.validate_rfc, "GODE561231GR8"),
])
def test_a_rule_python_stdnum_adds_later_still_gives_a_message(monkeypatch, module, check, value) -> None:
    import importlib

    from stdnum.exceptions import InvalidFormat

    def newer_rule(number: str, **_: object) -> str:
        raise InvalidFormat()

    monkeypatch.setattr(importlib.import_module(f"stdnum.mx.{module}"), "validate", newer_rule)
    with pytest.raises(identity.IdentityError) as caught:
        check(value)
    assert caught.value.code == "identity_invalid"
    message, fix = describe(caught.value)
    assert module.upper() in message and fix

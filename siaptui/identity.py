"""CURP, NSS and RFC: normalise, validate, and say exactly which character is wrong.

Why our own layer over python-stdnum: stdnum answers "invalid format"; a clerk copying a CURP
from a paper form needs "el carácter 11 («Q») debe ser H, M o X".  So every rule is checked
position by position here first, and python-stdnum stays the final authority for what it
covers (date, state codes, word list, check digits), plus what it misses (shared/notes
/mexico-identity.md §1.6, §2): sex X (issued since 2022), a lenient mode for SAT test data whose
CURP fails its own check digit, and the NSS (stdnum has no module for it).

Nothing here imports anything heavy; the worker screen validates on every keystroke.
"""

from __future__ import annotations

from datetime import date
from typing import Optional

from siaptui.errors import SiaptuiError

_CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
_LETTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = set("0123456789")

MAX_AGE_AT_REGISTRATION = 85
"""NSS two-digit years: a birth year that only fits with a longer gap is 'born after registering'."""

NSS_UNKNOWN_BIRTH_YEAR = "97"


class IdentityError(SiaptuiError):
    """An identity number is wrong; `params` carry field, position, character and expectation."""

    code = "identity_invalid"


class IdentityEmpty(IdentityError):
    code = "identity_empty"


class IdentityLength(IdentityError):
    code = "identity_length"


class IdentityCharacter(IdentityError):
    code = "identity_character"


class IdentityDate(IdentityError):
    code = "identity_date"


class IdentityState(IdentityError):
    code = "identity_state"


class IdentityWord(IdentityError):
    code = "identity_word"


class IdentityCheckDigit(IdentityError):
    code = "identity_check_digit"


class IdentityNssYears(IdentityError):
    code = "identity_nss_years"


def _expect(key: str) -> str:
    from siaptui.i18n import t

    return t(f"identity.expect.{key}")


def _compact(text: str, field: str) -> str:
    if not isinstance(text, str):
        raise IdentityEmpty(field, field=field)
    value = "".join(ch for ch in text.upper() if ch not in " -_.\t")
    if not value:
        raise IdentityEmpty(field, field=field)
    return value


def _check_length(value: str, field: str, allowed: tuple[int, ...]) -> None:
    if len(value) not in allowed:
        expected = " o ".join(str(n) for n in allowed)
        raise IdentityLength(value, field=field, expected=expected, got=len(value))


def _check_chars(value: str, field: str, rules: list[tuple[int, set[str], str]]) -> None:
    """rules: (1-based position, allowed characters, catalog key of the expectation)."""
    for position, allowed, expect in rules:
        char = value[position - 1]
        if char not in allowed:
            raise IdentityCharacter(value, field=field, position=position, char=char, expected=_expect(expect))


def _check_date(value: str, field: str, start: int, century: Optional[int]) -> None:
    text = value[start:start + 6]
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:6])
    years = [century + yy] if century is not None else [1900 + yy, 2000 + yy]
    for year in years:
        try:
            date(year, mm, dd)
            return
        except ValueError:
            continue
    raise IdentityDate(value, field=field, date=text, first=start + 1, last=start + 6)


# --- CURP ---------------------------------------------------------------------------------------

def curp_check_digit(first17: str) -> str:
    """Position 18 of a CURP: weights 18..2 over the alphabet 0-9 A-N Ñ O-Z (notes §1.3)."""
    if len(first17) < 17:
        raise ValueError("curp_check_digit needs the first 17 characters")
    total = sum(_CURP_ALPHABET.index(ch) * (18 - i) for i, ch in enumerate(first17[:17]))
    return str((10 - total % 10) % 10)


def validate_curp(text: str, *, lenient: bool = False) -> str:
    """Return the normalised CURP or raise an `IdentityError` naming the wrong part.

    `lenient=True` skips the check digit only (SAT's own test certificate carries a CURP that
    fails it); every other rule still applies.
    """
    from stdnum.exceptions import InvalidComponent, ValidationError
    from stdnum.mx import curp as std

    value = _compact(text, "CURP")
    _check_length(value, "CURP", (18,))
    rules = [(p, _LETTERS, "letter") for p in (1, 2, 3, 4)]
    rules += [(p, _DIGITS, "digit") for p in range(5, 11)]
    rules += [(11, set("HMX"), "sex")]
    rules += [(p, _LETTERS, "letter") for p in range(12, 17)]
    rules += [(17, _LETTERS | _DIGITS, "letter_or_digit"), (18, _DIGITS, "digit")]
    _check_chars(value, "CURP", rules)
    century = 1900 if value[16] in _DIGITS else 2000
    _check_date(value, "CURP", 4, century)
    # python-stdnum rejects sex X; it is valid since 2022, so let stdnum judge the rest as H.
    judged = value[:10] + ("H" if value[10] == "X" else value[10]) + value[11:]
    try:
        std.validate(judged, validate_check_digits=False)
    except InvalidComponent:
        # stdnum says "component" for both the word list and the state code: tell them apart by
        # asking again with a neutral first four letters.
        try:
            std.validate("XXXX" + judged[4:], validate_check_digits=False)
        except ValidationError:
            raise IdentityState(value, field="CURP", state=value[11:13]) from None
        raise IdentityWord(value, field="CURP", word=value[:4]) from None
    except ValidationError as exc:
        raise IdentityError(str(exc), field="CURP") from None
    expected = curp_check_digit(value)
    if not lenient and value[17] != expected:
        raise IdentityCheckDigit(value, field="CURP", position=18, char=value[17], expected=expected)
    return value


# --- NSS ----------------------------------------------------------------------------------------

def nss_check_digit(first10: str) -> str:
    """Luhn over the first 10 digits, weights 1,2,1,2… from the left (notes §2.2)."""
    if len(first10) < 10 or not first10[:10].isdigit():
        raise ValueError("nss_check_digit needs 10 digits")
    total = 0
    for i, ch in enumerate(first10[:10]):
        product = int(ch) * (2 if i % 2 else 1)
        total += product - 9 if product > 9 else product
    return str((10 - total % 10) % 10)


def validate_nss(text: str, *, today: Optional[date] = None) -> str:
    """Return the 11-digit NSS or raise: length, non-digit position, Luhn digit, years.

    Years are two-digit: registration (positions 3–4) is the latest past year with those digits;
    the birth year (5–6) is the latest year not after it; a number is refused when that makes
    the worker older than MAX_AGE_AT_REGISTRATION at registration (i.e. born after registering).
    97 means "birth year unknown" and always passes.
    """
    value = _compact(text, "NSS")
    _check_length(value, "NSS", (11,))
    _check_chars(value, "NSS", [(p, _DIGITS, "digit") for p in range(1, 12)])
    expected = nss_check_digit(value)
    if value[10] != expected:
        raise IdentityCheckDigit(value, field="NSS", position=11, char=value[10], expected=expected)
    registered_yy, born_yy = int(value[2:4]), value[4:6]
    if born_yy != NSS_UNKNOWN_BIRTH_YEAR:
        this_year = (today or date.today()).year
        registered = (this_year // 100) * 100 + registered_yy
        if registered > this_year:
            registered -= 100
        born = (registered // 100) * 100 + int(born_yy)
        if born > registered:
            born -= 100
        if registered - born > MAX_AGE_AT_REGISTRATION:
            raise IdentityNssYears(value, field="NSS", registered=value[2:4], born=born_yy)
    return value


# --- RFC ----------------------------------------------------------------------------------------

def validate_rfc(text: str, *, check_digit: bool = False) -> str:
    """Return the normalised RFC (persona física 13 or 10, moral 12) or raise naming the part.

    The check digit is off by default, as in python-stdnum: about 1.5 % of RFCs in use fail it.
    """
    from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError
    from stdnum.mx import rfc as std

    value = _compact(text, "RFC")
    _check_length(value, "RFC", (10, 12, 13))
    name_letters = _LETTERS | set("&Ñ")
    prefix = 3 if len(value) == 12 else 4
    rules = [(p, name_letters, "letter") for p in range(1, prefix + 1)]
    rules += [(p, _DIGITS, "digit") for p in range(prefix + 1, prefix + 7)]
    rules += [(p, _LETTERS | _DIGITS, "letter_or_digit") for p in range(prefix + 7, len(value) + 1)]
    _check_chars(value, "RFC", rules)
    _check_date(value, "RFC", prefix, None)
    try:
        std.validate(value, validate_check_digits=check_digit)
    except InvalidChecksum:
        expected = std.calc_check_digit(value[:-1]) if hasattr(std, "calc_check_digit") else "?"
        raise IdentityCheckDigit(value, field="RFC", position=len(value), char=value[-1], expected=expected) from None
    except InvalidComponent:
        if value[:4] in getattr(std, "_name_blacklist", ()):
            raise IdentityWord(value, field="RFC", word=value[:4]) from None
        # with check digits on, stdnum also requires the homoclave pattern [1-9A-V][1-9A-Z][0-9A]
        raise IdentityCharacter(value, field="RFC", position=len(value) - 2, char=value[-3:],
                                expected=_expect("homoclave")) from None
    except ValidationError as exc:
        raise IdentityError(str(exc), field="RFC") from None
    return value


# --- masking for logs ---------------------------------------------------------------------------

def mask_curp(curp: str) -> str:
    """`HEGT761003MDFRNN09` -> `HEGT7610******09`: enough to tell records apart in a log,
    not enough to identify the person (sex, state and name consonants hidden)."""
    value = "".join(str(curp or "").split()).upper()
    if len(value) != 18:
        return "*" * max(0, len(value) - 2) + value[-2:]
    return value[:8] + "*" * 6 + value[-2:]


def mask_nss(nss: str) -> str:
    """`92919084431` -> `9291*****31` (subdelegación and registration year stay visible)."""
    value = "".join(ch for ch in str(nss or "") if ch.isalnum())
    if len(value) != 11:
        return "*" * max(0, len(value) - 2) + value[-2:]
    return value[:4] + "*" * 5 + value[-2:]

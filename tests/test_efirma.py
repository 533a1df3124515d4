"""e.firma loading: SAT's public test pair (frozen clock) and certificates made here."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from siaptui import efirma
from siaptui.errors import describe
from siaptui.portal.sandbox.ca import issue_demo_efirma

WHEN_VALID = datetime(2019, 6, 1, tzinfo=timezone.utc)   # SAT's test pair: 2017-05 .. 2021-05
PASSWORD = "12345678a"


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ca")


@pytest.fixture(scope="module")
def demo(ca_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("demo")
    return {
        "fiel": issue_demo_efirma(out / "fiel", ca_directory=ca_dir),
        "other": issue_demo_efirma(out / "other", rfc="TAN100101CD3", curp="", name="OTRA PERSONA",
                                   ca_directory=ca_dir),
        "csd": issue_demo_efirma(out / "csd", kind="csd", ca_directory=ca_dir),
        "expired": issue_demo_efirma(out / "expired", expired=True, ca_directory=ca_dir),
        "future": issue_demo_efirma(out / "future", not_yet_valid=True, ca_directory=ca_dir),
    }


def _sat(shared: Path, kind: str) -> tuple:
    folder = shared / "data" / "sat-test-credentials" / f"{kind}_AAA010101AAA"
    return folder / "certificate.cer", folder / "private_key.key"


def _error(call, *args, **kwargs) -> efirma.EfirmaError:
    with pytest.raises(efirma.EfirmaError) as caught:
        call(*args, **kwargs)
    message, fix = describe(caught.value)
    assert message and fix and "{" not in message + fix, (message, fix)
    return caught.value


# --- SAT's public test credentials --------------------------------------------------------------

def test_sat_test_fiel_loads_with_frozen_clock(shared: Path) -> None:
    cer, key = _sat(shared, "FIEL")
    cred = efirma.load(cer, key, PASSWORD, now=WHEN_VALID, allow_test_ca=True)
    assert cred.rfc == "AAA010101AAA"
    assert cred.representative_rfc == "HEGT7610034S2"
    assert cred.curp == "HEGT761003MDFRNN09"          # the legal representative's, after the slash
    assert cred.name == "ACCEM SERVICIOS EMPRESARIALES SC"
    assert cred.serial == "30001000000300023685"
    assert cred.is_fiel and cred.is_test_ca
    assert cred.not_after == datetime(2021, 5, 15, 23, 29, 17, tzinfo=timezone.utc)
    signature = cred.sign(b"reto")
    x509.load_der_x509_certificate(cred.certificate_der).public_key().verify(
        signature, b"reto", padding.PKCS1v15(), hashes.SHA256())
    assert PASSWORD not in repr(cred) and "PRIVATE" not in repr(cred)


def test_sat_test_ca_refused_outside_the_sandbox(shared: Path) -> None:
    cer, key = _sat(shared, "FIEL")
    err = _error(efirma.load, cer, key, PASSWORD, now=WHEN_VALID)
    assert isinstance(err, efirma.EfirmaTestCA) and err.code == "efirma_test_ca"
    assert "pruebas" in describe(err)[0]


def test_sat_test_fiel_expired_today(shared: Path) -> None:
    cer, key = _sat(shared, "FIEL")
    err = _error(efirma.load, cer, key, PASSWORD, allow_test_ca=True)
    assert isinstance(err, efirma.EfirmaExpired) and "2021-05-15" in describe(err)[0]


def test_sat_csd_refused(shared: Path) -> None:
    cer, key = _sat(shared, "CSD01")
    err = _error(efirma.load, cer, key, PASSWORD, now=WHEN_VALID, allow_test_ca=True)
    assert isinstance(err, efirma.EfirmaIsCSD) and "30001000000300023708" in describe(err)[0]


def test_sat_wrong_password(shared: Path) -> None:
    cer, key = _sat(shared, "FIEL")
    err = _error(efirma.load, cer, key, "12345678A", now=WHEN_VALID, allow_test_ca=True)
    assert isinstance(err, efirma.EfirmaWrongPassword)
    assert isinstance(_error(efirma.load, cer, key, "", now=WHEN_VALID, allow_test_ca=True), efirma.EfirmaWrongPassword)


def test_sat_swapped_files(shared: Path) -> None:
    cer, key = _sat(shared, "FIEL")
    assert isinstance(_error(efirma.load, key, cer, PASSWORD, now=WHEN_VALID, allow_test_ca=True), efirma.EfirmaSwapped)
    # Only the .key chosen twice: still told it is a key where the certificate goes.
    assert isinstance(_error(efirma.load, key, key, PASSWORD, now=WHEN_VALID, allow_test_ca=True), efirma.EfirmaSwapped)


def test_sat_fiel_certificate_with_csd_key(shared: Path) -> None:
    cer, _ = _sat(shared, "FIEL")
    _, csd_key = _sat(shared, "CSD01")
    err = _error(efirma.load, cer, csd_key, PASSWORD, now=WHEN_VALID, allow_test_ca=True)
    assert isinstance(err, efirma.EfirmaMismatch) and "AAA010101AAA" in describe(err)[0]


def test_pem_forms_are_accepted(shared: Path, tmp_path: Path) -> None:
    cer, key = _sat(shared, "FIEL")
    pem_cer = tmp_path / "c.pem"
    pem_cer.write_bytes(x509.load_der_x509_certificate(cer.read_bytes()).public_bytes(serialization.Encoding.PEM))
    private = serialization.load_der_private_key(key.read_bytes(), password=PASSWORD.encode())
    pem_key = tmp_path / "k.pem"
    pem_key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.BestAvailableEncryption(b"otra-clave")))
    cred = efirma.load(pem_cer, pem_key, "otra-clave", now=WHEN_VALID, allow_test_ca=True)
    assert cred.rfc == "AAA010101AAA"


# --- files ---------------------------------------------------------------------------------------

def test_file_problems(demo: dict, tmp_path: Path) -> None:
    good = demo["fiel"]
    missing = _error(efirma.load, tmp_path / "no.cer", good.key, good.password)
    assert isinstance(missing, efirma.EfirmaFileNotFound) and "no.cer" in describe(missing)[0]
    empty = tmp_path / "empty.cer"
    empty.write_bytes(b"")
    assert isinstance(_error(efirma.load, empty, good.key, good.password), efirma.EfirmaFileEmpty)
    junk = tmp_path / "junk.cer"
    junk.write_bytes(b"%PDF-1.4 esto no es un certificado")
    assert isinstance(_error(efirma.load, junk, good.key, good.password), efirma.EfirmaCorrupt)
    truncated = tmp_path / "cut.key"
    truncated.write_bytes(Path(good.key).read_bytes()[:300])
    assert isinstance(_error(efirma.load, good.cer, truncated, good.password),
                      (efirma.EfirmaCorrupt, efirma.EfirmaWrongPassword))
    huge = tmp_path / "huge.cer"
    huge.write_bytes(b"0" * (efirma.MAX_FILE_BYTES + 1))
    assert isinstance(_error(efirma.load, huge, good.key, good.password), efirma.EfirmaCorrupt)
    assert isinstance(_error(efirma.load, tmp_path, good.key, good.password), efirma.EfirmaCorrupt)


# --- certificates made by the sandbox CA (SAT shape, valid today) ----------------------------------

def test_demo_fiel_loads_and_is_a_test_certificate(demo: dict) -> None:
    good = demo["fiel"]
    assert Path(good.key).read_bytes()[:40].find(bytes.fromhex("2a864886f70d01050d")) > 0   # PBES2
    cred = efirma.load(good.cer, good.key, good.password, allow_test_ca=True)
    assert (cred.rfc, cred.curp) == (good.rfc, good.curp)
    assert cred.is_fiel and len(cred.serial) == 20 and cred.serial.isdigit()
    err = _error(efirma.load, good.cer, good.key, good.password)
    assert isinstance(err, efirma.EfirmaTestCA)


def test_demo_failures(demo: dict) -> None:
    fiel, other = demo["fiel"], demo["other"]
    def failure(name: str) -> efirma.EfirmaError:
        return _error(efirma.load, demo[name].cer, demo[name].key, "demo12345", allow_test_ca=True)

    assert isinstance(_error(efirma.load, fiel.cer, other.key, other.password, allow_test_ca=True),
                      efirma.EfirmaMismatch)
    assert isinstance(failure("csd"), efirma.EfirmaIsCSD)
    assert isinstance(failure("expired"), efirma.EfirmaExpired)
    future = failure("future")
    assert isinstance(future, efirma.EfirmaNotYetValid) and "hora" in describe(future)[1]


# --- certificates made here with cryptography -----------------------------------------------------

def _self_signed(tmp_path: Path, key, subject: list, *, extensions=()) -> Path:
    now = datetime.now(timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(x509.Name(subject)).issuer_name(x509.Name(subject))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30)))
    for ext in extensions:
        builder = builder.add_extension(ext, critical=False)
    path = tmp_path / "made.cer"
    path.write_bytes(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    return path


def _key_file(tmp_path: Path, key, password: bytes) -> Path:
    path = tmp_path / "made.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(password)))
    return path


def test_certificate_without_rfc_is_not_an_efirma(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cer = _self_signed(tmp_path, key, [x509.NameAttribute(NameOID.COMMON_NAME, "servidor web")])
    err = _error(efirma.load, cer, _key_file(tmp_path, key, b"x"), "x")
    assert isinstance(err, efirma.EfirmaNotSAT)


def test_non_rsa_key_refused(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, "PRUEBA"),
               x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, "DEPM800101AB2"),
               x509.NameAttribute(NameOID.SERIAL_NUMBER, "DEPM800101MDFMRR07")]
    client_auth = x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH])
    cer = _self_signed(tmp_path, key, subject, extensions=[client_auth])
    err = _error(efirma.load, cer, _key_file(tmp_path, key, b"x"), "x")
    assert isinstance(err, efirma.EfirmaUnsupportedKey)


def test_forget_drops_the_key(demo: dict) -> None:
    good = demo["fiel"]
    cred = efirma.load(good.cer, good.key, good.password, allow_test_ca=True)
    cred.forget()
    with pytest.raises(efirma.EfirmaError):
        cred.sign(b"x")

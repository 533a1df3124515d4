"""`siaptui config check` says whether the store answers (siaptui.store.reach).

Against a real PostgreSQL server (pgserver, tests/store/conftest.py): reachable with its
stations, a database that does not exist, a user the server refuses; a closed port on
loopback for a server that does not answer; and the SQLite data folder, writable or not.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from siaptui import cli
from siaptui.store.db import Store, open_store
from siaptui.store.schema import SCHEMA_VERSION

SECRET = "secreto-de-la-estacion"


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store: str,
          lang: str = "es") -> tuple[int, str, str]:
    config = tmp_path / "siaptui.toml"
    config.write_text(f"[general]\nlang = \"{lang}\"\n[store]\n{store}\n", encoding="utf-8")
    monkeypatch.setenv("SIAPTUI_CONFIG", str(config))
    code = cli.main(["config", "check"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def with_user(url: str, user: str, password: str) -> str:
    """pgserver's postgresql://postgres:@/db?host=… with another user and password."""
    assert url.startswith("postgresql://postgres:@/")
    return url.replace("postgres:@", f"{user}:{password}@", 1)


def test_a_reachable_server_lists_its_stations(pg_url: str, tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    code, out, _ = check(tmp_path, capsys, monkeypatch, f'url = "{pg_url}"')
    assert code == 0 and "responde (PostgreSQL 16" in out and "está vacía" in out
    def station(folder: str, name: str) -> Store:
        return open_store(url=pg_url, key_dir=tmp_path / folder, station=name, office_passphrase="frase de la oficina")

    with station("pc-a", "caja-1"):
        station("pc-b", "caja-2").close()
        # A clone that used the name caja-2 while caja-2 was off: allowed then, warned of now.
        station("pc-c", "caja-2").close()
        code, out, _ = check(tmp_path, capsys, monkeypatch, f'url = "{pg_url}"')
    assert code == 0 and f"versión {SCHEMA_VERSION}" in out and "(2 nombres)" in out
    lines = out.splitlines()
    assert any(line.startswith("  caja-1:") and "en uso ahora" in line for line in lines)
    assert sum(line.startswith("  caja-2:") and "vista por última vez" in line for line in lines) == 2
    assert "el nombre caja-2 lo han usado 2 computadoras" in out


def test_a_missing_database_says_so(pg_server: Any, tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    code, out, err = check(tmp_path, capsys, monkeypatch, f'url = "{pg_server.get_uri("no_hay")}"')
    assert code == 1 and "esa base de datos no existe" in err and "CREATE DATABASE" in err
    assert "postgresql://localhost/no_hay" in err


def test_a_refused_password_says_so_and_never_prints_it(pg_server: Any, pg_url: str, tmp_path: Path,
                                                        capsys: Any, monkeypatch: Any) -> None:
    import psycopg

    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'estacion_ciega') "
                      "THEN CREATE ROLE estacion_ciega LOGIN PASSWORD 'la-buena'; END IF; END $$")
        row = admin.execute("SHOW hba_file").fetchone()
        assert row is not None
        hba = Path(row[0])
        rule = "local all estacion_ciega scram-sha-256\n"
        if not hba.read_text().startswith(rule):  # pgserver trusts every local user; not this one
            hba.write_text(rule + hba.read_text())
            admin.execute("SELECT pg_reload_conf()")
    time.sleep(0.2)
    code, out, err = check(tmp_path, capsys, monkeypatch, f'url = "{with_user(pg_url, "estacion_ciega", SECRET)}"')
    assert code == 1 and "no aceptó al usuario o la contraseña" in err and "pg_hba.conf" in err
    assert SECRET not in out + err
    code, out, _ = check(tmp_path, capsys, monkeypatch, f'url = "{with_user(pg_url, "estacion_ciega", "la-buena")}"')
    assert code == 0 and "responde" in out


def test_a_closed_port_is_unreachable_with_the_next_step(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    started = time.monotonic()
    code, out, err = check(tmp_path, capsys, monkeypatch, f'url = "postgresql://siaptui:{SECRET}@127.0.0.1:1/oficina"',
                           lang="en")
    assert code == 1 and time.monotonic() - started < 10
    assert "The office server postgresql://127.0.0.1:1/oficina does not answer" in err
    assert "listen_addresses" in err and SECRET not in out + err


def test_the_sqlite_folder_is_writable_or_named(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    folder = tmp_path / "datos"
    monkeypatch.delenv("SIAPTUI_STORE_DATA_DIR")  # the environment outranks the file
    code, out, _ = check(tmp_path, capsys, monkeypatch, f'data_dir = "{folder}"')
    assert code == 0 and f"Carpeta de datos {folder}: se puede escribir." in out
    blocked = tmp_path / "un-archivo" / "datos"  # a folder under a file: refused even as root
    blocked.parent.write_text("no es carpeta", encoding="utf-8")
    code, out, err = check(tmp_path, capsys, monkeypatch, f'data_dir = "{blocked}"')
    assert code == 1 and "No se puede escribir en la carpeta de datos" in err and "store.data_dir" in err
    assert "un-archivo" in err

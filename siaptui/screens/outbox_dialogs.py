"""The Bandeja's three forms: export the unsent work, import another terminal's, ARCO erasure.

Why here and not in the screen: each is a FormDialog with its own checks and its own store
call; the export and the import call the same functions as `siaptui outbox export|import`
(siaptui.store.export), so a bundle made on one side opens on the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from siaptui.errors import explain
from siaptui.i18n import t
from siaptui.screens.form_dialog import Field, FormDialog, form_keys
from siaptui.screens.worker import masked
from siaptui.store.errors import StoreError


def actor(app: Any) -> str:
    """Who the audit log names: the logged-in employer's RFC, else this terminal."""
    employer = getattr(getattr(app, "flow", None), "employer", None)
    return employer.rfc if employer else "terminal"


class ExportDialog(FormDialog):
    """Where to write the encrypted bundle, and the passphrase (typed twice) the other terminal needs."""

    BINDINGS = form_keys("export", "key.export")

    def __init__(self, default_path: Path) -> None:
        super().__init__(t("outbox.export.title"), [
            Field("path", t("outbox.export.path"), value=str(default_path)),
            Field("passphrase", t("outbox.export.passphrase"), password=True),
            Field("passphrase-again", t("outbox.export.passphrase_again"), password=True),
        ], t("outbox.export.hint"))

    def submit(self) -> None:
        from siaptui.store.export import check_passphrase, export_pending

        path = self.value("path").strip()
        if not path:
            self.refuse("path", t("outbox.export.need_path"))
            return
        passphrase = self.value("passphrase")
        try:
            check_passphrase(passphrase, self.value("passphrase-again"))
        except StoreError as exc:
            mismatch = exc.code == "store_bundle_passphrase_mismatch"
            self.refuse("passphrase-again" if mismatch else "passphrase", explain(exc), clear=mismatch)
            return
        try:
            store = self.app.services.store()  # type: ignore[attr-defined]  # a SiaptuiApp; Screen.app is typed as App
            count = export_pending(store, Path(path).expanduser(), passphrase, actor=actor(self.app))
        except Exception as exc:  # noqa: BLE001 - message + next step, never a traceback
            self.refuse("path", explain(exc))
            return
        self.dismiss(t("outbox.export.done", count=count, path=path) if count else t("outbox.export.nothing"))


class ImportDialog(FormDialog):
    """Which bundle to import and its passphrase; importing is idempotent (keys are kept)."""

    BINDINGS = form_keys("import", "key.import")

    def __init__(self) -> None:
        super().__init__(t("outbox.import.title"), [
            Field("import-path", t("outbox.import.path")),
            Field("import-passphrase", t("outbox.import.passphrase"), password=True),
        ], t("outbox.import.hint"))

    def submit(self) -> None:
        from siaptui.store.export import import_bundle

        path = self.value("import-path").strip()
        passphrase = self.value("import-passphrase")
        if not path:
            self.refuse("import-path", t("outbox.import.need_path"))
            return
        if not passphrase:
            self.refuse("import-passphrase", t("outbox.import.need_passphrase"))
            return
        try:
            store = self.app.services.store()  # type: ignore[attr-defined]  # a SiaptuiApp; Screen.app is typed as App
            imported, skipped = import_bundle(store, Path(path).expanduser(), passphrase, actor=actor(self.app))
        except StoreError as exc:
            if exc.code == "store_bundle_wrong_passphrase":
                self.refuse("import-passphrase", explain(exc), clear=True)
            else:
                self.refuse("import-path", explain(exc))
            return
        except Exception as exc:  # noqa: BLE001 - message + next step, never a traceback
            self.show_problem(explain(exc))
            return
        self.dismiss(t("store.import_done", imported=imported, skipped=skipped))


class ArcoDialog(FormDialog):
    """ARCO cancellation: erase one worker's fingerprints from this terminal, for good.

    Why a typed confirmation word: the deletion cannot be undone and unsent enrollments of that
    worker become unsendable, so a stray key press must never trigger it.
    """

    BINDINGS = form_keys("arco", "key.arco")

    def __init__(self) -> None:
        super().__init__(t("outbox.arco.title"), [
            Field("arco-nss", t("outbox.arco.nss"), max_length=11),
            Field("arco-word", t("outbox.arco.confirm", word=t("outbox.arco.word"))),
        ], t("outbox.arco.hint"))

    def submit(self) -> None:
        from siaptui.identity import validate_nss

        try:
            nss = validate_nss(self.value("arco-nss").strip())
        except Exception as exc:  # noqa: BLE001 - the identity message says which digit is wrong
            self.refuse("arco-nss", explain(exc))
            return
        word = t("outbox.arco.word")
        if self.value("arco-word").strip().upper() != word.upper():
            self.refuse("arco-word", t("outbox.arco.need_word", word=word))
            return
        try:
            store = self.app.services.store()  # type: ignore[attr-defined]  # a SiaptuiApp; Screen.app is typed as App
            counts = store.gallery.delete_worker(nss, actor=actor(self.app))
        except Exception as exc:  # noqa: BLE001 - any failure is said next to the field, never a traceback
            self.show_problem(explain(exc))
            return
        done = t("outbox.arco.done", nss=masked(nss), templates=counts["templates"],
                 images=counts["images"], photos=counts["photos"], outbox=counts["outbox"])
        if not counts["scrubbed"]:  # another terminal (or station) holds it: say so, it finishes later
            pending = t("outbox.arco.scrub_pending_shared" if store.shared else "outbox.arco.scrub_pending")
            self.dismiss((f"{done} {pending}", "warning"))
            return
        self.dismiss((done, "ok"))

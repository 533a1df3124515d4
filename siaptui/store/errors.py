"""The store's own errors: each code has `error.<code>` and `error.<code>.fix` in store.toml.

The codes are stable because the Bandeja screen and the CLI map them to catalog text, and
because an outbox row stores a reason code that must still mean the same thing next year.
"""

from __future__ import annotations

from siaptui.errors import SiaptuiError


class StoreError(SiaptuiError):
    """Anything the local store cannot do, with the next step in the catalog."""

    code = "store_error"


# Stable codes, listed once so tests can check that every one has catalog text.
CODES = (
    "store_error",
    "store_open_failed",
    "store_damaged",
    "store_recover_nothing",
    "store_write_failed",
    "store_busy",
    "store_schema_newer",
    "store_key_missing",
    "store_key_corrupt",
    "store_key_mismatch",
    "store_passphrase_required",
    "store_wrong_passphrase",
    "store_data_corrupt",
    "store_item_not_found",
    "store_payload_deleted",
    "store_already_sent",
    "store_request_invalid",
    "store_bundle_invalid",
    "store_bundle_not_found",
    "store_bundle_wrong_passphrase",
    "store_arco_cancelled",
    "store_send_failed",
    "store_receipt_incomplete",
    "store_unreachable",
    "store_station_no_key",
    "store_office_no_copy",
    "store_station_name_taken",
    "store_office_passphrase_exists",
    "store_office_passphrase_short",
    "store_check_unreachable",
    "store_check_auth",
    "store_check_no_database",
    "store_check_folder",
    "store_sqlite_only",
)

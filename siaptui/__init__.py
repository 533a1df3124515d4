"""siaptui: enrolamiento biométrico de trabajadores ante el portal IMSS, desde la terminal.

Kept empty of imports on purpose: `siaptui --help` must start without loading Textual,
numpy, pyusb or cryptography (see tests/test_import_hygiene.py).
"""

__version__ = "0.1.0"

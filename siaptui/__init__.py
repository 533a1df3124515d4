"""siaptui: enrolamiento biométrico de trabajadores ante el portal IMSS, desde la terminal.

Kept free of heavy imports on purpose: `siaptui --help` must start without loading Textual,
numpy, pyusb or cryptography (see tests/test_import_hygiene.py).
"""

import os as _os

__version__ = "0.1.0"

# One BLAS thread, set before anything imports numpy: the matcher multiplies many tiny matrices,
# where OpenBLAS's thread pool costs several times the work itself (measured: 3.0 ms of CPU per
# comparison with 2 threads, 0.5 ms with one), and on a 2-core office PC the TUI runs beside it.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")

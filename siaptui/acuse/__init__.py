"""The acuse as a document the worker carries: data from the outbox, QR, PDF/PNG, printing.

Plain Python (no Textual): the Acuse screen, the Bandeja and `siaptui acuse FOLIO` share it.
segno and fpdf2 are imported only when a QR or a PDF is actually made, so start-up stays fast.
"""

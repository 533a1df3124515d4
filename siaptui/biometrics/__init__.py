"""Fingerprint engine: image → quality, minutiae, templates, matching.

Kept import-free on purpose: `siaptui --help` and the first screen must not pull numpy or
scikit-image; each step imports its own module (`siaptui.biometrics.extract`, `.quality`, …).
"""

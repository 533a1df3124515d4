"""Packages for setuptools: the ones under siaptui/ plus the repository's top-level hw/ and
themes/ folders, which pyproject.toml maps into the package (`package-dir`).

pyproject.toml alone cannot say "the packages found under siaptui/ and these two mapped ones",
so the list is built here; everything else about the build lives in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

MAPPED = ["siaptui.hw", "siaptui.hw.udev", "siaptui.themes"]

setup(packages=find_namespace_packages(include=["siaptui", "siaptui.*"], exclude=["*.__pycache__"]) + MAPPED)

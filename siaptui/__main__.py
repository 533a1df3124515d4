"""`python -m siaptui` is the same as the `siaptui` command."""

from siaptui.cli import main

raise SystemExit(main())

"""`python -m cli ...` runs the `revo` command."""

from cli.app import main

raise SystemExit(main())

"""`revo`, the operators' command line: an entry point over `services`, like the pages."""

from cli.app import app, main

__all__ = ["app", "main"]

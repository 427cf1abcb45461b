"""kiroku (記録): Japanese speech to editable minutes. This package is the command line."""

__version__ = "0.1.0"

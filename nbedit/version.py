"""The package version (its own module, so the lowest layers can name it in provenance)."""

__version__ = "0.1.0"

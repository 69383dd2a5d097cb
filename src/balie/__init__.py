"""Balie: one counter where a web shop's team answers every customer."""

__version__ = "0.1.0"

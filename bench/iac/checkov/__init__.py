"""Checkov loads custom Python checks only from a package."""

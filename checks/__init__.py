"""The built-in check catalogue, one module per family.

Each module is registered through the `diagnose.checks` entry-point group (see pyproject.toml),
exactly as a third-party package would add its own checks.
"""

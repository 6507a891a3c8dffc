"""diagnose: the Wisenet ↔ Xero sync troubleshooting assistant.

The core (sources, evidence, engine, renderers) never imports Textual or python-docx; those
belong to the TUI and the Word renderer and are loaded only by the commands that need them.
"""

__version__ = "0.1.0"

"""Sources: the only code that talks to Wisenet and Xero (through `diagnose.sources.http`)."""

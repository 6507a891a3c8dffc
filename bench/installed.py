"""The environment a benchmark's fresh processes run in: as installed, where Python keeps each
module's bytecode (pip writes it for the libraries; a first run here writes diagnose's), so no
measured run compiles from source what a user's never would. A machine that sets
PYTHONDONTWRITEBYTECODE would otherwise count diagnose's compiling in every start-up figure."""

from __future__ import annotations

import os

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

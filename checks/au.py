"""Australian states and their postcode ranges, for `learner.address`.

Ranges are the published Australia Post allocations (delivery and PO box ranges together).
Border towns break the rule (Paringi NSW uses 3500, Norfolk Island 2899), so a postcode outside
its state's range is a warning, never a failure.
"""

from __future__ import annotations

STATE_NAMES = {
    "NSW": "New South Wales",
    "VIC": "Victoria",
    "QLD": "Queensland",
    "SA": "South Australia",
    "WA": "Western Australia",
    "TAS": "Tasmania",
    "NT": "Northern Territory",
    "ACT": "Australian Capital Territory",
}

POSTCODE_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "NSW": ((1000, 1999), (2000, 2599), (2619, 2899), (2921, 2999)),
    "ACT": ((200, 299), (2600, 2618), (2900, 2920)),
    "VIC": ((3000, 3999), (8000, 8999)),
    "QLD": ((4000, 4999), (9000, 9999)),
    "SA": ((5000, 5999),),
    "WA": ((6000, 6797), (6800, 6999)),
    "TAS": ((7000, 7999),),
    "NT": ((800, 999),),
}


def state_code(description: str) -> str | None:
    """The state's code for a short ('NSW') or long ('New South Wales') description."""
    wanted = description.strip().casefold()
    for code, name in STATE_NAMES.items():
        if wanted in (code.casefold(), name.casefold()):
            return code
    return None


def states_for_postcode(postcode: str) -> list[str]:
    value = int(postcode)
    return [
        code
        for code, ranges in POSTCODE_RANGES.items()
        if any(low <= value <= high for low, high in ranges)
    ]

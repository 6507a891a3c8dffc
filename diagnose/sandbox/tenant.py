"""Tenant files (`diagnose-tenant/1`): what a sandbox serves, in the APIs' own payload shapes.

Loading validates the structure the sandbox relies on and reports the first problem as one line
that names the file and the exact place (`wisenet.learners[2].LearnerId`). Records are kept as
given, so whatever else they hold is served back untouched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnose.errors import TenantFileError

FORMAT = "diagnose-tenant/1"

Record = dict[str, Any]


@dataclass
class Tenant:
    name: str
    learners: list[Record] = field(default_factory=list)  # learner Data (LearnerId, Personal, …)
    wisenet_invoices: list[Record] = field(default_factory=list)
    states: list[Record] = field(default_factory=list)
    countries: list[Record] = field(default_factory=list)
    event_alerts: list[Record] | None = None  # None: the tenant says nothing about alerts
    connections: list[Record] = field(default_factory=list)
    contacts: list[Record] = field(default_factory=list)
    invoices: list[Record] = field(default_factory=list)
    source: str = ""
    organisation_details: Record | None = None  # `xero.organisation`: what /Organisation adds

    @property
    def organisation(self) -> str:
        for c in self.connections:
            if c.get("tenantType") == "ORGANISATION":
                return str(c.get("tenantName") or self.name)
        return self.name

    @property
    def tenant_id(self) -> str | None:
        for c in self.connections:
            if c.get("tenantType") == "ORGANISATION":
                return str(c["tenantId"])
        return None


def _not_json(word: str) -> Any:
    raise json.JSONDecodeError(f"{word} is not a JSON number", word, 0)


MAX_TENANT_BYTES = 2 * 1024**3  # far beyond 100,000 learners; a device or a runaway file is not


def load_tenant(path: Path) -> Tenant:
    if path.exists() and not path.is_dir() and not path.is_file():
        raise TenantFileError(f"sandbox tenant file {path} is not a regular file")
    try:
        if path.is_file() and path.stat().st_size > MAX_TENANT_BYTES:
            raise TenantFileError(f"sandbox tenant file {path} is larger than 2 GiB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TenantFileError(f"sandbox tenant file {path} does not exist") from None
    except IsADirectoryError:
        raise TenantFileError(f"sandbox tenant file {path} is a folder, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TenantFileError(f"cannot read sandbox tenant file {path}: {exc}") from None
    try:
        document = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise TenantFileError(
            f"sandbox tenant file {path} is not valid JSON "
            f"(line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise TenantFileError(f"sandbox tenant file {path} is nested too deeply") from None
    try:
        tenant = parse_tenant(document)
    except _Invalid as exc:
        raise TenantFileError(f"sandbox tenant file {path}: {exc}") from None
    except RecursionError:
        raise TenantFileError(f"sandbox tenant file {path} is nested too deeply") from None
    tenant.source = str(path)
    return tenant


class _Invalid(Exception):
    pass


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Invalid(f"{where} must be an object")
    return value


def _list(parent: Mapping[str, Any], key: str, where: str) -> list[Record]:
    value = parent.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Invalid(f"{where}.{key} must be a list")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise _Invalid(f"{where}.{key}[{i}] must be an object")
    return value


def _field(record: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = record.get(key)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise _Invalid(f"{where}.{key} must be a whole number")
    if kind is str and (not isinstance(value, str) or not value.strip()):
        raise _Invalid(f"{where}.{key} must be a non-empty string")
    return value


def _unique(records: list[Record], key: str, where: str, kind: type) -> None:
    seen: set[Any] = set()
    for i, record in enumerate(records):
        data = record.get("Data", record) if key == "LearnerId" else record
        value = _field(_obj(data, f"{where}[{i}]"), key, kind, f"{where}[{i}]")
        if value in seen:
            raise _Invalid(f"{where}[{i}].{key} {value!r} appears twice")
        seen.add(value)


def parse_tenant(document: Any) -> Tenant:
    root = _obj(document, "the file")
    if root.get("format") != FORMAT:
        raise _Invalid(f"'format' must be {FORMAT!r}")
    name = root.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Invalid("'name' must be a non-empty string")
    wisenet = _obj(root.get("wisenet", {}), "wisenet")
    xero = _obj(root.get("xero", {}), "xero")
    combos = _obj(wisenet.get("combos", {}) or {}, "wisenet.combos")
    tenant = Tenant(
        name=name,
        learners=_list(wisenet, "learners", "wisenet"),
        wisenet_invoices=_list(wisenet, "invoices", "wisenet"),
        states=_list(combos, "states", "wisenet.combos"),
        countries=_list(combos, "countries", "wisenet.combos"),
        event_alerts=(
            _list(wisenet, "event_alerts", "wisenet") if "event_alerts" in wisenet else None
        ),
        connections=_list(xero, "connections", "xero"),
        contacts=_list(xero, "contacts", "xero"),
        invoices=_list(xero, "invoices", "xero"),
        organisation_details=(
            dict(_obj(xero["organisation"], "xero.organisation"))
            if "organisation" in xero
            else None
        ),
    )
    _unique(tenant.learners, "LearnerId", "wisenet.learners", int)
    for i, learner in enumerate(tenant.learners):
        data = learner.get("Data", learner)
        if "Personal" in data:
            _obj(data["Personal"], f"wisenet.learners[{i}].Personal")
    _unique(tenant.states, "StateId", "wisenet.combos.states", int)
    _unique(tenant.countries, "CountryId", "wisenet.combos.countries", int)
    for i, record in enumerate(tenant.wisenet_invoices):
        _field(record, "InvoiceNumber", str, f"wisenet.invoices[{i}]")
    for i, record in enumerate(tenant.connections):
        _field(record, "tenantId", str, f"xero.connections[{i}]")
    _unique(tenant.contacts, "ContactID", "xero.contacts", str)
    _unique(tenant.invoices, "InvoiceID", "xero.invoices", str)
    for i, record in enumerate(tenant.invoices):
        contact = _obj(record.get("Contact"), f"xero.invoices[{i}].Contact")
        _field(contact, "ContactID", str, f"xero.invoices[{i}].Contact")
    return tenant

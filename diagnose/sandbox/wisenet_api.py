"""The sandbox's Wisenet v1: learners (read, and PATCH of `Personal/…`), invoices, combos."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from diagnose.msdate import parse_datetime
from diagnose.sandbox.identity import Identity
from diagnose.sandbox.integration import sync_learner
from diagnose.sandbox.responses import SANDBOX_API_KEY, SANDBOX_TOKEN, Refused, json_response
from diagnose.sandbox.tenant import Record, Tenant

WISENET_MAX_TAKE = 1000


def _wisenet_error(status: int, message: str) -> Refused:
    return Refused(json_response({"Message": message}, status))


def _wisenet_auth(request: Request, identity: Identity | None = None) -> None:
    key = request.headers.get("x-api-key")
    bearer = request.headers.get("authorization", "")
    token = bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else ""
    signed_in = token == SANDBOX_TOKEN or (identity is not None and identity.accepts(token))
    if key != SANDBOX_API_KEY and not signed_in:
        raise _wisenet_error(401, "Authorization has been denied for this request.")


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?\d{1,10}", raw):
        raise _wisenet_error(400, f"The value '{raw}' is not valid for {name}.")
    return int(raw)


def _paged(request: Request, rows: list[Any]) -> list[Any]:
    skip = _int_param(request, "skip", 0) or 0
    take = _int_param(request, "take", WISENET_MAX_TAKE) or 0
    if skip < 0 or not 1 <= take <= WISENET_MAX_TAKE:
        raise _wisenet_error(400, f"take must be between 1 and {WISENET_MAX_TAKE}; skip >= 0.")
    return rows[skip : skip + take]


class Wisenet:
    def __init__(
        self, tenant: Tenant, wrote: Callable[[str], None], identity: Identity | None = None
    ) -> None:
        self.tenant = tenant
        self.wrote = wrote
        self.identity = identity
        self.states = {s["StateId"]: s for s in tenant.states}
        self.countries = {c["CountryId"]: c for c in tenant.countries}

    def auth(self, request: Request) -> None:
        _wisenet_auth(request, self.identity)

    def item(self, learner: Record) -> Record:
        """A learner as `/learnersAU` returns it: `{Data, Relationships}`."""
        if "Data" in learner:
            return learner
        personal = learner.get("Personal") or {}
        blocks = [
            personal.get(k) or {} for k in ("StreetAddress", "PostalAddress", "PermanentAddress")
        ]
        state_ids = {b.get("StateId") for b in blocks if isinstance(b, dict)}
        country_ids = {b.get("CountryId") for b in blocks if isinstance(b, dict)}
        return {
            "Data": learner,
            "Relationships": {
                "States": [self.states[i] for i in sorted(state_ids, key=str) if i in self.states],
                "Countries": [
                    self.countries[i] for i in sorted(country_ids, key=str) if i in self.countries
                ],
            },
        }

    @staticmethod
    def data(learner: Record) -> Record:
        return learner.get("Data", learner)  # type: ignore[no-any-return]

    def learner(self, request: Request) -> Response:
        self.auth(request)
        learner_id = request.path_params["learner_id"]
        for learner in self.tenant.learners:
            if self.data(learner).get("LearnerId") == learner_id:
                return json_response(self.item(learner))
        raise _wisenet_error(404, f"Learner with LearnerId {learner_id} was not found.")

    def learners(self, request: Request) -> Response:
        self.auth(request)
        rows = _changed(
            request, self.tenant.learners, lambda r: self.data(r).get("LastModifiedTimeStamp")
        )
        number = request.query_params.get("learnerNumberFilter")
        if number:
            rows = [
                r
                for r in rows
                if str((self.data(r).get("Personal") or {}).get("LearnerNumber", "")).casefold()
                == number.casefold()
            ]
        search = request.query_params.get("search")
        if search:
            words = search.casefold().split()
            rows = [r for r in rows if all(w in _name(self.data(r)) for w in words)]
        sync = request.query_params.get("syncToXeroFilter")
        if sync in ("true", "false"):
            rows = [
                r
                for r in rows
                if bool((self.data(r).get("Personal") or {}).get("SyncToXero")) == (sync == "true")
            ]
        return json_response([self.item(r) for r in _paged(request, rows)])

    async def patch_learner(self, request: Request) -> Response:
        """`PATCH /learnersAU/{id}` with `[{"op": "replace", "path": "Personal/SyncToXero",
        "value": true}]`; ticking "Sync to Xero" plays the integration for the learner."""
        self.auth(request)
        learner_id = request.path_params["learner_id"]
        learner = next(
            (x for x in self.tenant.learners if self.data(x).get("LearnerId") == learner_id), None
        )
        if learner is None:
            raise _wisenet_error(404, f"Learner with LearnerId {learner_id} was not found.")
        try:
            ops = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise _wisenet_error(400, "The request body is not valid JSON.") from None
        if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
            raise _wisenet_error(400, "The request body must be a list of patch operations.")
        changes: list[tuple[str, Any]] = []
        for op in ops:  # every operation checked before any is applied: all or nothing
            path = str(op.get("path", "")).strip("/").split("/")
            if op.get("op") != "replace" or len(path) != 2 or path[0] != "Personal":
                raise _wisenet_error(400, "Unsupported patch operation.")
            value = op.get("value")
            if path[1] == "SyncToXero" and not isinstance(value, bool):
                raise _wisenet_error(400, "SyncToXero must be true or false.")
            if not isinstance(value, str | bool | int | float | None):
                raise _wisenet_error(400, f"Personal/{path[1]} cannot take that value.")
            changes.append((path[1], value))
        data = self.data(learner)
        personal = data.setdefault("Personal", {})
        ticked = False
        for name, value in changes:
            if name == "SyncToXero":
                ticked = ticked or (value and not personal.get("SyncToXero"))
            personal[name] = value
        data["LastModifiedTimeStamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        if ticked:
            sync_learner(self.tenant, data)
        self.wrote(f"PATCH {request.url.path} {json.dumps(ops)}")
        return json_response(self.item(learner))

    def invoices(self, request: Request) -> Response:
        self.auth(request)
        rows = _changed(request, self.tenant.wisenet_invoices, lambda r: r.get("UpdateDateUtc"))
        learner_id = _int_param(request, "learnerIdFilter")
        if learner_id is not None:
            rows = [r for r in rows if r.get("LearnerId") == learner_id]
        return json_response([{"Data": r, "Relationships": {}} for r in _paged(request, rows)])

    def combo(self, records: Callable[[], list[Record]]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            self.auth(request)
            return json_response([{"Data": r, "Relationships": {}} for r in records()])

        return endpoint


def _changed(request: Request, rows: list[Record], stamp: Callable[[Record], Any]) -> list[Record]:
    """`lastModifiedTimeStampFilter=gt:<date-time>`: only records modified after it."""
    raw = request.query_params.get("lastModifiedTimeStampFilter")
    if not raw:
        return rows
    documented = re.fullmatch(r"gt:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}", raw)
    since = parse_datetime(raw.removeprefix("gt:")) if documented else None
    if since is None:
        raise _wisenet_error(
            400, f"The value '{raw}' is not valid for lastModifiedTimeStampFilter."
        )
    return [r for r in rows if (when := parse_datetime(stamp(r))) is None or when > since]


def _name(data: Record) -> str:
    personal = data.get("Personal") or {}
    return f"{personal.get('FirstName') or ''} {personal.get('LastName') or ''}".casefold()

"""A GitHub REST API double for the self-hosted runner endpoints the roles use.

It checks the bearer token on every REST call and records every call, so a test
can assert what the roles asked for, with which token and labels, without the
token itself being kept anywhere but in the test's own memory.

REST endpoints (under ``/`` and, as on GitHub Enterprise Server, ``/api/v3``):

    POST   /repos/{owner}/{repo}/actions/runners/registration-token
    POST   /repos/{owner}/{repo}/actions/runners/remove-token
    GET    /repos/{owner}/{repo}/actions/runners[?name=&per_page=&page=]
    GET    /repos/{owner}/{repo}/actions/runners/{id}
    GET    /repos/{owner}/{repo}/actions/runners/{id}/labels
    PUT    /repos/{owner}/{repo}/actions/runners/{id}/labels   {"labels": [...]}  (set custom)
    POST   /repos/{owner}/{repo}/actions/runners/{id}/labels   {"labels": [...]}  (add custom)
    DELETE /repos/{owner}/{repo}/actions/runners/{id}
    POST   /repos/{owner}/{repo}/actions/runners/generate-jitconfig
           {"name", "runner_group_id", "labels", "work_folder"} -> 201
           {"runner": {...}, "encoded_jit_config": "..."}
    ... and the same under /orgs/{org}/actions/runners.

generate-jitconfig follows GitHub's REST reference ("Create configuration for a
just-in-time runner for a repository / an organization",
docs.github.com/rest/actions/self-hosted-runners, and the OpenAPI description in
github/rest-api-description): name, runner_group_id and labels (1 to 100) are
required (422 otherwise), work_folder defaults to "_work", a name in use answers
409; the runner is registered at once, ephemeral. encoded_jit_config is what
the runner's `run.sh --jitconfig` decodes (actions/runner src/Runner.Listener/
Runner.cs): base64 of a JSON map from file name (.runner, .credentials,
.credentials_rsaparams) to the base64 of that file's bytes, here written as the
runner writes its own files (UTF-8 with a BOM, src/Runner.Sdk/Util/IOUtil.cs).

What the real runner's ``config.sh`` does with a registration token happens on
GitHub's side; the runner double (``runner_release/bin/Runner.Listener``) does it
through two endpoints that exist only here:

    POST /_double/runners/register   Authorization: RemoteAuth <registration token>
    POST /_double/runners/remove     Authorization: RemoteAuth <remove token>

    python -m doubles.github_api_double --token T --host 127.0.0.1 --port 8080
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from doubles.serving import ServesHTTP

READ_ONLY_LABELS = ("self-hosted", "Linux", "X64")

_SCOPE = r"(?P<scope>repos/[^/]+/[^/]+|orgs/[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(rf"^/{_SCOPE}/actions/runners/registration-token$"), "registration_token"),
    ("POST", re.compile(rf"^/{_SCOPE}/actions/runners/remove-token$"), "remove_token"),
    ("GET", re.compile(rf"^/{_SCOPE}/actions/runners$"), "list_runners"),
    ("GET", re.compile(rf"^/{_SCOPE}/actions/runners/(?P<id>\d+)$"), "get_runner"),
    ("DELETE", re.compile(rf"^/{_SCOPE}/actions/runners/(?P<id>\d+)$"), "delete_runner"),
    ("GET", re.compile(rf"^/{_SCOPE}/actions/runners/(?P<id>\d+)/labels$"), "get_labels"),
    ("PUT", re.compile(rf"^/{_SCOPE}/actions/runners/(?P<id>\d+)/labels$"), "set_labels"),
    ("POST", re.compile(rf"^/{_SCOPE}/actions/runners/(?P<id>\d+)/labels$"), "add_labels"),
    (
        "POST",
        re.compile(rf"^/{_SCOPE}/actions/runners/generate-jitconfig$"),
        "generate_jitconfig",
    ),
    ("POST", re.compile(r"^/_double/runners/register$"), "double_register"),
    ("POST", re.compile(r"^/_double/runners/remove$"), "double_remove"),
]


def token_digest(token: str) -> str:
    """How the doubles refer to a token in records: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Call:
    """One request the double answered."""

    method: str
    path: str
    endpoint: str
    status: int
    authorized: bool
    body: Any = None
    # For registration/remove calls: the digest of the one-time token presented.
    token_digest: str | None = None


@dataclass
class Runner:
    id: int
    name: str
    scope: str
    custom_labels: list[str]
    runner_group: str = "Default"
    ephemeral: bool = False
    os: str = "Linux"
    status: str = "online"

    def labels(self) -> list[dict[str, Any]]:
        rows = [
            {"id": i + 1, "name": n, "type": "read-only"} for i, n in enumerate(READ_ONLY_LABELS)
        ]
        rows += [
            {"id": 100 + i, "name": n, "type": "custom"} for i, n in enumerate(self.custom_labels)
        ]
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "os": self.os,
            "status": self.status,
            "busy": False,
            "ephemeral": self.ephemeral,
            "runner_group_name": self.runner_group,
            "labels": self.labels(),
        }


@dataclass
class _OneTimeToken:
    kind: str  # "registration" or "remove"
    scope: str
    expires_at: datetime


@dataclass
class GitHubApiDouble(ServesHTTP):
    """The double's state; ``serve()`` puts it on the network."""

    access_token: str
    calls: list[Call] = field(default_factory=list)
    runners: dict[int, Runner] = field(default_factory=dict)
    _tokens: dict[str, _OneTimeToken] = field(default_factory=dict)
    # runner id -> digest of the JIT configuration issued for it (a secret too)
    jit_configs: dict[int, str] = field(default_factory=dict)
    _jit_raw: dict[int, str] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(41))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what tests read ---------------------------------------------------
    def calls_to(self, endpoint: str) -> list[Call]:
        return [c for c in self.calls if c.endpoint == endpoint]

    def runner_named(self, name: str) -> Runner | None:
        return next((r for r in self.runners.values() if r.name == name), None)

    def issued_token_digests(self, kind: str) -> set[str]:
        return {token_digest(t) for t, v in self._tokens.items() if v.kind == kind}

    # -- the network -------------------------------------------------------
    def serve(self, host: str, port: int = 0) -> str:
        double = self

        class Handler(_Handler):
            state = double

        return self._serve(Handler, host, port)

    # -- endpoint logic ----------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: Any, body: Any) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        path = parts.path.removeprefix("/api/v3")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        routed = next(
            (
                (found, endpoint)
                for route_method, pattern, endpoint in _ROUTES
                if route_method == method and (found := pattern.match(path))
            ),
            None,
        )
        if routed is None:
            self._record(method, path, "unknown", 404, False, body)
            return 404, {"message": "Not Found"}
        match, endpoint = routed
        with self._lock:
            if endpoint.startswith("double_"):
                return self._runner_side(endpoint, method, path, headers, body)
            authorized = self._bearer_ok(headers.get("Authorization", ""))
            if not authorized:
                self._record(method, path, endpoint, 401, False, body)
                return 401, {"message": "Bad credentials"}
            status, payload = getattr(self, "_" + endpoint)(match, query, body)
            self._record(method, path, endpoint, status, True, body)
            return status, payload

    def _bearer_ok(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        return scheme.lower() in {"bearer", "token"} and secrets.compare_digest(
            value.strip(), self.access_token
        )

    def _record(
        self,
        method: str,
        path: str,
        endpoint: str,
        status: int,
        authorized: bool,
        body: Any,
        digest: str | None = None,
    ) -> None:
        self.calls.append(Call(method, path, endpoint, status, authorized, body, digest))

    def _issue(self, kind: str, scope: str) -> tuple[int, Any]:
        token = "A" + secrets.token_hex(14).upper()
        expires = datetime.now(UTC) + timedelta(hours=1)
        self._tokens[token] = _OneTimeToken(kind, scope, expires)
        return 201, {"token": token, "expires_at": expires.isoformat(timespec="seconds")}

    def _registration_token(self, match: re.Match[str], query: dict[str, str], body: Any):
        return self._issue("registration", match["scope"])

    def _remove_token(self, match: re.Match[str], query: dict[str, str], body: Any):
        return self._issue("remove", match["scope"])

    def _in_scope(self, match: re.Match[str]) -> list[Runner]:
        return [r for r in self.runners.values() if r.scope == match["scope"]]

    def _find(self, match: re.Match[str]) -> Runner | None:
        runner = self.runners.get(int(match["id"]))
        return runner if runner is not None and runner.scope == match["scope"] else None

    def _list_runners(self, match: re.Match[str], query: dict[str, str], body: Any):
        found = self._in_scope(match)
        if "name" in query:
            found = [r for r in found if r.name == query["name"]]
        per_page = int(query.get("per_page", 30))
        page = int(query.get("page", 1))
        shown = found[(page - 1) * per_page : page * per_page]
        return 200, {"total_count": len(found), "runners": [r.as_json() for r in shown]}

    def _get_runner(self, match: re.Match[str], query: dict[str, str], body: Any):
        runner = self._find(match)
        return (200, runner.as_json()) if runner else (404, {"message": "Not Found"})

    def _delete_runner(self, match: re.Match[str], query: dict[str, str], body: Any):
        runner = self._find(match)
        if runner is None:
            return 404, {"message": "Not Found"}
        del self.runners[runner.id]
        return 204, None

    def _get_labels(self, match: re.Match[str], query: dict[str, str], body: Any):
        runner = self._find(match)
        if runner is None:
            return 404, {"message": "Not Found"}
        return 200, {"total_count": len(runner.labels()), "labels": runner.labels()}

    def _labels_from(self, body: Any) -> list[str] | None:
        if not isinstance(body, dict) or not isinstance(body.get("labels"), list):
            return None
        return [str(x) for x in body["labels"]]

    def _set_labels(self, match: re.Match[str], query: dict[str, str], body: Any):
        runner, labels = self._find(match), self._labels_from(body)
        if runner is None:
            return 404, {"message": "Not Found"}
        if labels is None:
            return 422, {"message": "Invalid request: object is missing required key: labels."}
        runner.custom_labels = labels
        return 200, {"total_count": len(runner.labels()), "labels": runner.labels()}

    def _add_labels(self, match: re.Match[str], query: dict[str, str], body: Any):
        runner, labels = self._find(match), self._labels_from(body)
        if runner is None:
            return 404, {"message": "Not Found"}
        if labels is None:
            return 422, {"message": "Invalid request: object is missing required key: labels."}
        runner.custom_labels += [x for x in labels if x not in runner.custom_labels]
        return 200, {"total_count": len(runner.labels()), "labels": runner.labels()}

    def _generate_jitconfig(self, match: re.Match[str], query: dict[str, str], body: Any):
        body = body if isinstance(body, dict) else {}
        for key in ("name", "runner_group_id", "labels"):
            if key not in body:
                return 422, {"message": f"Invalid request: object is missing required key: {key}."}
        labels = body["labels"]
        if not isinstance(labels, list) or not 1 <= len(labels) <= 100:
            return 422, {"message": "Invalid request: labels must hold 1 to 100 items."}
        scope = match["scope"]
        if any(r.scope == scope and r.name == body["name"] for r in self.runners.values()):
            return 409, {"message": "Already exists - A runner with the same name already exists."}
        runner = Runner(
            id=next(self._ids),
            name=str(body["name"]),
            scope=scope,
            custom_labels=[str(x) for x in labels],
            ephemeral=True,
        )
        self.runners[runner.id] = runner
        work = str(body.get("work_folder") or "_work")
        host = (
            f"http://{self._server.server_address[0]}:{self._server.server_address[1]}"
            if (self._server)
            else "http://localhost"
        )
        owner_path = scope.split("/", 1)[1]
        files = {
            ".runner": {
                "agentId": runner.id,
                "agentName": runner.name,
                "poolId": int(body["runner_group_id"]),
                "poolName": "Default",
                "serverUrl": f"{host}/_double/pipelines",
                "gitHubUrl": f"{host}/{owner_path}",
                "workFolder": work,
                "ephemeral": True,
            },
            ".credentials": {
                "scheme": "OAuth",
                "data": {
                    "clientId": f"jit-{runner.id}",
                    "authorizationUrl": f"{host}/_double/oauth2",
                },
            },
            ".credentials_rsaparams": {"exponent": "AQAB", "modulus": "double"},
        }
        encoded = {
            name: base64.b64encode(("\ufeff" + json.dumps(data, indent=2)).encode()).decode()
            for name, data in files.items()
        }
        config = base64.b64encode(json.dumps(encoded).encode()).decode()
        self.jit_configs[runner.id] = token_digest(config)
        self._jit_raw[runner.id] = config
        return 201, {"runner": runner.as_json(), "encoded_jit_config": config}

    # -- what GitHub does when config.sh presents a one-time token ----------
    def _runner_side(self, endpoint: str, method: str, path: str, headers: Any, body: Any):
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        kind = "registration" if endpoint == "double_register" else "remove"
        issued = self._tokens.get(token.strip()) if scheme == "RemoteAuth" else None
        digest = token_digest(token.strip()) if token else None
        if issued is None or issued.kind != kind or issued.expires_at < datetime.now(UTC):
            self._record(method, path, endpoint, 401, False, body, digest)
            return 401, {"message": f"invalid or expired {kind} token"}
        scope = _scope_of_url(str((body or {}).get("url", "")))
        if scope != issued.scope:
            self._record(method, path, endpoint, 403, False, body, digest)
            return 403, {"message": f"token is for {issued.scope}, not {scope}"}
        name = str(body.get("name", ""))
        existing = next(
            (r for r in self.runners.values() if r.scope == scope and r.name == name), None
        )
        if endpoint == "double_remove":
            if existing is None:
                self._record(method, path, endpoint, 404, True, body, digest)
                return 404, {"message": "Not Found"}
            del self.runners[existing.id]
            self._record(method, path, endpoint, 204, True, body, digest)
            return 204, None
        if existing is not None:
            if not body.get("replace"):
                self._record(method, path, endpoint, 409, True, body, digest)
                return 409, {"message": f"a runner named {name} already exists"}
            del self.runners[existing.id]
        runner = Runner(
            id=next(self._ids),
            name=name,
            scope=scope,
            custom_labels=[str(x) for x in body.get("labels", [])],
            runner_group=str(body.get("runner_group") or "Default"),
            ephemeral=bool(body.get("ephemeral")),
        )
        self.runners[runner.id] = runner
        self._record(method, path, endpoint, 201, True, body, digest)
        return 201, runner.as_json()


def _scope_of_url(url: str) -> str:
    """``https://github.com/o/r`` -> ``repos/o/r``; ``https://github.com/o`` -> ``orgs/o``."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) == 2:
        return f"repos/{parts[0]}/{parts[1]}"
    if len(parts) == 1:
        return f"orgs/{parts[0]}"
    return ""


class _Handler(BaseHTTPRequestHandler):
    state: GitHubApiDouble
    server_version = "github-api-double/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # every call is recorded in state.calls instead

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            self._reply(400, {"message": "Problems parsing JSON"})
            return
        status, payload = self.state.handle(self.command, self.path, self.headers, body)
        self._reply(status, payload)

    def _reply(self, status: int, payload: Any) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True, help="the access token the double accepts")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    double = GitHubApiDouble(args.token)
    print(double.serve(args.host, args.port), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()

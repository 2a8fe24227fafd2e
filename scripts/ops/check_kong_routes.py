#!/usr/bin/env python3
"""Check compose/kong/kong.yml against the services' OpenAPI documents.

Fails (exit 1, one line per problem) unless:
  - kong.yml is a DB-less declarative config (format 3.0) whose routes keep their path
    (strip_path: false) and whose upstreams are the compose services on their PORT;
  - the gateway plugins the suite relies on are configured: correlation-id (X-Correlation-ID,
    echoed), request-size-limiting, cors, prometheus;
  - every route is protected (issue 14): the jwt plugin applies to it (globally, on its
    service or on the route) keyed on the `iss` claim and verifying exp and nbf, with a
    consumer credential for the suite's issuer (HS256 with a secret, or RS256/ES256 with a
    public key); and the rate-limiting plugin applies to it, counting per consumer (local
    policy). key-auth may not apply as well (a client would need both an API key and a token);
  - every routed path prefix matches at least one path of its service's OpenAPI document;
  - every public path of every service (under /api/; the OpenAPI document and the operators'
    /api/admin/... excluded) is covered by a route, and Kong (longest prefix wins) sends it to the service serving it;
  - every operation behind a route declares a bearer security requirement in its OpenAPI
    document (the gateway asks for a token: the contract must say so).

The OpenAPI documents are fetched from running services (GET <base>/api-docs/openapi.json).
Base URLs: --service NAME=URL (repeatable; URL may also be a local .json file), or the
environment: COMPLAINTS_URL, NOTIFICATIONS_URL, AUDIT_URL, EVENTS_URL (defaults
http://127.0.0.1:3005 … 3008).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - reported, not crashed on
    print("check_kong_routes: error: PyYAML is missing (pip install -r scripts/ops/requirements.txt)",
          file=sys.stderr)
    sys.exit(2)

ROOT = Path(__file__).resolve().parents[2]
KONG_FILE = ROOT / "compose" / "kong" / "kong.yml"
COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"

# Kong service name -> (environment variable with its base URL, default base URL).
SERVICES = {
    "complaint-service": ("COMPLAINTS_URL", "http://127.0.0.1:3005"),
    "notification-service": ("NOTIFICATIONS_URL", "http://127.0.0.1:3006"),
    "audit-service": ("AUDIT_URL", "http://127.0.0.1:3007"),
    "event-store-service": ("EVENTS_URL", "http://127.0.0.1:3008"),
}
OPENAPI_PATH = "/api-docs/openapi.json"
# The `iss` of the suite's tokens (shared::auth::ISSUER): the jwt credential's key.
ISSUER = "complaint-suite"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# Operator endpoints stay off the public gateway, like /admin/dead-letters and the probes.
PRIVATE_PREFIXES = ("/api-docs", "/api/admin/")


def is_public(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith(PRIVATE_PREFIXES)


def under(path: str, prefix: str) -> bool:
    """`path` is `prefix` or below it, on a segment boundary."""
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def concrete(path: str) -> str:
    """An OpenAPI path template made into a request path: `{id}` becomes `id-value`."""
    return re.sub(r"\{([^}/]+)\}", r"\1-value", path)


def kong_matches(path: str, route_path: str) -> bool:
    """Kong's rule: a plain route path is a string prefix; `~…` is a regex anchored at the start."""
    if route_path.startswith("~"):
        return re.match(route_path[1:], concrete(path)) is not None
    return path.startswith(route_path)


def kong_priority(route_path: str, regex_priority: int) -> tuple:
    """Kong tries regex paths first (highest regex_priority), then prefixes, longest first."""
    if route_path.startswith("~"):
        return (1, regex_priority, len(route_path))
    return (0, 0, len(route_path))


def load_openapi(source: str) -> dict:
    if not source.startswith(("http://", "https://")):
        return json.loads(Path(source).read_text())
    url = source if source.endswith(".json") else source.rstrip("/") + OPENAPI_PATH
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as error:
        raise RuntimeError(f"cannot fetch the OpenAPI document {url}: {error}") from error


# ---- the declarative file itself ----------------------------------------------------------------


def compose_ports() -> dict[str, str]:
    """Compose service name -> its PORT environment value."""
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    ports = {}
    for name, spec in (compose.get("services") or {}).items():
        env = spec.get("environment") or {}
        if isinstance(env, dict) and "PORT" in env:
            ports[name] = str(env["PORT"])
    return ports


def check_declarative(kong: dict) -> list[str]:
    problems = []
    if str(kong.get("_format_version")) != "3.0":
        problems.append(f"_format_version is {kong.get('_format_version')!r}, expected \"3.0\"")

    ports = compose_ports()
    route_names: set[str] = set()
    for service in kong.get("services") or []:
        name = service.get("name", "?")
        url = urllib.parse.urlsplit(service.get("url", ""))
        if name not in SERVICES:
            problems.append(f"service {name}: not one of the suite's services {sorted(SERVICES)}")
        if url.hostname not in ports:
            problems.append(f"service {name}: upstream host {url.hostname!r} is not a compose service with a PORT")
        elif str(url.port) != ports[url.hostname]:
            problems.append(f"service {name}: upstream port {url.port} but {url.hostname} listens on PORT {ports[url.hostname]}")
        for route in service.get("routes") or []:
            rname = route.get("name", "?")
            if rname in route_names:
                problems.append(f"route {rname}: name used twice")
            route_names.add(rname)
            if route.get("strip_path", True) is not False:
                problems.append(f"route {rname}: strip_path must be false (the services serve the full /api/... path)")
            paths = route.get("paths") or []
            if not paths:
                problems.append(f"route {rname}: no paths")
            for path in paths:
                path = str(path)
                if path.startswith("~"):
                    try:
                        re.compile(path[1:])
                    except re.error as error:
                        problems.append(f"route {rname}: regex path {path!r} does not compile: {error}")
                elif not path.startswith("/"):
                    problems.append(f"route {rname}: path {path!r} must start with / (or ~ for a regex)")

    problems += check_protection(kong)
    plugins = {p.get("name"): p.get("config") or {} for p in kong.get("plugins") or []}
    corr = plugins.get("correlation-id")
    if corr is None:
        problems.append("plugin correlation-id is missing")
    else:
        if str(corr.get("header_name", "")).lower() != "x-correlation-id":
            problems.append("plugin correlation-id: header_name must be X-Correlation-ID")
        if corr.get("echo_downstream") is not True:
            problems.append("plugin correlation-id: echo_downstream must be true")
    for required in ("request-size-limiting", "cors", "prometheus"):
        if required not in plugins:
            problems.append(f"plugin {required} is missing")
    return problems


def route_plugins(kong: dict) -> dict[str, dict[str, dict]]:
    """Route name -> {plugin name: config} of the plugins that run on it: global ones, those of
    its service and its own (a plugin on a narrower scope replaces a wider one, as in Kong)."""
    def scoped(items) -> dict[str, dict]:
        return {p.get("name"): p.get("config") or {} for p in items or [] if p.get("enabled", True) is not False}

    everywhere = scoped(kong.get("plugins"))
    effective = {}
    for service in kong.get("services") or []:
        on_service = scoped(service.get("plugins"))
        for route in service.get("routes") or []:
            effective[route.get("name", "?")] = {**everywhere, **on_service, **scoped(route.get("plugins"))}
    return effective


def check_jwt(config: dict, consumers: list[dict]) -> list[str]:
    problems = []
    if config.get("key_claim_name") != "iss":
        problems.append("key_claim_name must be iss (the credential is the token's issuer)")
    missing = {"exp", "nbf"} - set(config.get("claims_to_verify") or [])
    if missing:
        problems.append(f"claims_to_verify lacks {', '.join(sorted(missing))}")
    credentials = [c for consumer in consumers for c in consumer.get("jwt_secrets") or []]
    issuer = [c for c in credentials if c.get("key") == ISSUER]
    if not issuer:
        problems.append(f"no consumer has a jwt credential with key {ISSUER!r} (the tokens' iss): every token would get 401")
    for credential in issuer:
        algorithm = credential.get("algorithm", "HS256")
        if algorithm.startswith("HS") and not credential.get("secret"):
            problems.append(f"the {ISSUER} credential ({algorithm}) has no secret")
        if algorithm.startswith(("RS", "ES", "PS")) and not credential.get("rsa_public_key"):
            problems.append(f"the {ISSUER} credential ({algorithm}) has no rsa_public_key")
    return problems


def check_protection(kong: dict) -> list[str]:
    """Every route requires a token (jwt) and is rate-limited per consumer."""
    problems = []
    consumers = kong.get("consumers") or []
    for route, plugins in route_plugins(kong).items():
        jwt = plugins.get("jwt")
        if jwt is None:
            problems.append(f"route {route}: the jwt plugin does not apply to it (anyone could call it)")
        else:
            problems += [f"route {route}: plugin jwt: {p}" for p in check_jwt(jwt, consumers)]
        if "key-auth" in plugins:
            problems.append(f"route {route}: key-auth applies too (a client would need an API key and a token)")
        rate = plugins.get("rate-limiting")
        if rate is None:
            problems.append(f"route {route}: the rate-limiting plugin does not apply to it")
        else:
            if rate.get("limit_by", "consumer") != "consumer":
                problems.append(f"route {route}: rate-limiting must count per consumer (limit_by: consumer)")
            if rate.get("policy") != "local":
                problems.append(f"route {route}: rate-limiting policy must be local (no database in DB-less mode)")
    return problems


# ---- routes against the OpenAPI documents -------------------------------------------------------


def check_routes(kong: dict, documents: dict[str, dict]) -> list[str]:
    problems = []
    routes = [
        (service["name"], route.get("name", "?"), str(path), int(route.get("regex_priority", 0)))
        for service in kong.get("services") or []
        for route in service.get("routes") or []
        for path in route.get("paths") or []
    ]
    public = {
        name: sorted(p for p in (doc.get("paths") or {}) if is_public(p))
        for name, doc in documents.items()
    }

    for service, route, prefix, _ in routes:
        if service not in documents:
            continue
        regex = prefix.startswith("~")
        if not any(kong_matches(p, prefix) if regex else under(p, prefix) for p in public[service]):
            problems.append(
                f"route {route} ({prefix} -> {service}): no path of {service}'s OpenAPI document is under it"
            )

    for service, paths in public.items():
        for path in paths:
            matching = [
                (kong_priority(prefix, priority), s, r, prefix)
                for s, r, prefix, priority in routes
                if kong_matches(path, prefix)
            ]
            if not matching:
                problems.append(f"{service} serves {path} but no Kong route covers it")
                continue
            _, routed_to, route, prefix = max(matching)
            if routed_to != service:
                problems.append(f"{path} is served by {service} but route {route} ({prefix}) sends it to {routed_to}")

    for service, document in documents.items():
        problems += [f"{service}: {p}" for p in unprotected_operations(document)]
    return problems


def unprotected_operations(document: dict) -> list[str]:
    """Public operations whose OpenAPI document does not require a bearer token."""
    schemes = ((document.get("components") or {}).get("securitySchemes")) or {}
    bearer = {
        name for name, scheme in schemes.items()
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer"
    }
    default = document.get("security")
    problems = []
    for path, item in (document.get("paths") or {}).items():
        if not is_public(path):
            continue
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            requirements = operation.get("security", default) or []
            # Each requirement is an alternative; an empty one ({}) means "no token needed".
            if not requirements or any(not (set(r) & bearer) for r in requirements):
                problems.append(f"{method.upper()} {path} is routed through the gateway (which asks for a token) "
                                "but its OpenAPI operation does not require the bearer scheme")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kong", type=Path, default=KONG_FILE, help="declarative config (default: %(default)s)")
    parser.add_argument("--service", action="append", default=[], metavar="NAME=URL",
                        help="base URL (or OpenAPI .json file) of a service; overrides the environment")
    parser.add_argument("--static", action="store_true",
                        help="check the declarative file only (no services needed)")
    args = parser.parse_args()

    sources = {name: os.environ.get(var, default) for name, (var, default) in SERVICES.items()}
    for item in args.service:
        name, _, url = item.partition("=")
        if name not in SERVICES or not url:
            print(f"check_kong_routes: error: --service {item!r}: expected NAME=URL with NAME in {sorted(SERVICES)}",
                  file=sys.stderr)
            return 2
        sources[name] = url

    try:
        kong = yaml.safe_load(args.kong.read_text())
    except (OSError, yaml.YAMLError) as error:
        print(f"check_kong_routes: error: cannot read {args.kong}: {error}", file=sys.stderr)
        return 1

    problems = check_declarative(kong)
    if args.static:
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        if problems:
            print(f"check_kong_routes: FAILED ({len(problems)} problems in {args.kong.name})", file=sys.stderr)
            return 1
        print(f"check_kong_routes: ok: {args.kong.name} is a valid declarative config for the suite")
        return 0
    documents = {}
    for name, source in sources.items():
        try:
            documents[name] = load_openapi(source)
        except (RuntimeError, OSError, json.JSONDecodeError) as error:
            problems.append(f"{name}: {error}")
    problems += check_routes(kong, documents)

    if problems:
        print(f"check_kong_routes: FAILED ({len(problems)} problems):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    n_routes = sum(len(s.get("routes") or []) for s in kong.get("services") or [])
    n_paths = sum(sum(1 for p in (d.get("paths") or {}) if is_public(p)) for d in documents.values())
    print(f"check_kong_routes: ok: {n_routes} routes cover the {n_paths} public paths of {len(documents)} services")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What can be checked of the image build without a Docker engine.

Fails unless:
  - every compose service built from the Dockerfile names (build arg SERVICE) a binary target
    of the workspace;
  - Cargo.lock is up to date (the Dockerfile builds with --locked: a stale lock fails there);
  - .dockerignore keeps out of the build context nothing cargo needs (the manifests, the lock,
    the crates' sources, the migrations the binaries embed with sqlx::migrate!, the files they
    embed with include_str!);
  - the Dockerfile builds with --release --locked and runs as a non-root user.
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, simplified: the last matching pattern wins; `!` re-includes."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = [path] + [str(p) for p in Path(path).parents if str(p) != "."]
        if any(fnmatch.fnmatch(c, pattern) or fnmatch.fnmatch(c, pattern.replace("**/", "")) for c in candidates):
            result = not negate
    return result


def main() -> int:
    problems = []
    metadata = subprocess.run(
        ["cargo", "metadata", "--locked", "--format-version", "1", "--no-deps"],
        cwd=ROOT, capture_output=True, text=True)
    if metadata.returncode != 0:
        print(f"check_docker_build: FAILED: cargo metadata --locked: {metadata.stderr.strip()[-500:]}", file=sys.stderr)
        return 1
    packages = json.loads(metadata.stdout)["packages"]
    binaries = {t["name"]: Path(p["manifest_path"]).parent for p in packages for t in p["targets"] if "bin" in t["kind"]}

    compose = yaml.safe_load((ROOT / "compose" / "docker-compose.yml").read_text())
    built = {}
    for name, service in compose["services"].items():
        build = service.get("build")
        if not build:
            continue
        service_arg = (build.get("args") or {}).get("SERVICE")
        if service_arg not in binaries:
            problems.append(f"compose service {name}: build arg SERVICE={service_arg!r} is not a binary of the workspace")
        else:
            built[service_arg] = binaries[service_arg]

    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    needed = ["Cargo.toml", "Cargo.lock", "shared/src/lib.rs", "shared/Cargo.toml"]
    for crate_dir in built.values():
        rel = crate_dir.relative_to(ROOT)
        needed += [f"{rel}/Cargo.toml", f"{rel}/src/main.rs"]
        for source in (crate_dir / "src").rglob("*.rs"):
            text = source.read_text(errors="replace")
            for migration in re.findall(r'sqlx::migrate!\(\s*"([^"]+)"', text):
                needed.append(str((crate_dir / migration).resolve().relative_to(ROOT)))
            for embedded in re.findall(r'include_str!\(\s*"([^"]+)"', text):
                needed.append(str((source.parent / embedded).resolve().relative_to(ROOT)))
    for path in needed:
        if ignored(path, patterns):
            problems.append(f".dockerignore leaves {path} out of the build context, but the build needs it")
        if not (ROOT / path).exists():
            problems.append(f"{path}: needed by the build, missing")

    dockerfile = (ROOT / "Dockerfile").read_text()
    if not re.search(r"cargo build --release --locked", dockerfile):
        problems.append("Dockerfile: no `cargo build --release --locked`")
    user = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    if not user or user[-1].split(":")[0] in {"root", "0"}:
        problems.append("Dockerfile: the runtime stage must end with a non-root USER")

    if problems:
        print(f"check_docker_build: FAILED ({len(problems)} problems):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"check_docker_build: ok: {len(built)} images build workspace binaries from a current Cargo.lock; "
          f"{len(needed)} needed paths are in the build context")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The metric names a PromQL expression reads, and the expressions of our rules and dashboards.

A small lexer, not a parser: strings, label matchers, ranges and grouping clauses are blanked
out, then every identifier that is not a keyword and not followed by `(` is a metric name.
Good enough for the expressions of alerts.yml and the dashboards (tested in check.sh on them).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "and", "or", "unless", "offset", "inf", "nan", "Inf", "NaN",
}
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_GRAFANA_VAR = re.compile(r"\$\{[^}]*\}|\$\w+")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    text = _GRAFANA_VAR.sub(" ", expr)
    text = _STRING.sub('""', text)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _IDENT.finditer(text):
        token = match.group(0)
        before = text[match.start() - 1] if match.start() else " "
        if before.isdigit() or before == ".":  # the exponent of 1e3, the unit of 5m
            continue
        if text[match.end():].lstrip().startswith("("):  # a function or an aggregation
            continue
        if token in KEYWORDS:
            continue
        names.add(token)
    return names


def grafana_variable_names(query: str) -> set[str]:
    """`label_values(metric, label)` reads `metric`; `label_values(label)` reads none."""
    match = re.match(r"\s*label_values\(\s*([^,)]*?)\s*,", query)
    if match:
        return metric_names(match.group(1))
    match = re.match(r"\s*(?:query_result|metrics)\((.*)\)\s*$", query)
    return metric_names(match.group(1)) if match else set()


def rule_expressions(alerts_file: Path) -> dict[str, str]:
    """{"alert <name>": expr} for every rule of a Prometheus rules file."""
    import yaml

    document = yaml.safe_load(alerts_file.read_text())
    found = {}
    for group in document.get("groups") or []:
        for rule in group.get("rules") or []:
            name = rule.get("alert") or rule.get("record") or "?"
            found[f"{alerts_file.name}: {name}"] = rule["expr"]
    return found


def dashboard_expressions(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """({"<file>: <panel title>#<ref>": expr}, {"<file>: variable <name>": query})."""
    exprs, variables = {}, {}
    for path in sorted(folder.glob("*.json")):
        dashboard = json.loads(path.read_text())
        panels = list(dashboard.get("panels") or [])
        while panels:
            panel = panels.pop(0)
            panels.extend(panel.get("panels") or [])  # collapsed rows keep their panels inside
            for target in panel.get("targets") or []:
                if target.get("expr"):
                    exprs[f"{path.name}: {panel.get('title')}#{target.get('refId')}"] = target["expr"]
        for variable in (dashboard.get("templating") or {}).get("list") or []:
            query = variable.get("query")
            if isinstance(query, dict):
                query = query.get("query")
            if variable.get("type") == "query" and query:
                variables[f"{path.name}: variable {variable.get('name')}"] = query
    return exprs, variables


def used_metrics(alerts_file: Path, dashboards: Path) -> dict[str, set[str]]:
    """metric name -> where it is used."""
    used: dict[str, set[str]] = {}
    exprs, variables = dashboard_expressions(dashboards)
    for where, expr in {**rule_expressions(alerts_file), **exprs}.items():
        for name in metric_names(expr):
            used.setdefault(name, set()).add(where)
    for where, query in variables.items():
        for name in grafana_variable_names(query):
            used.setdefault(name, set()).add(where)
    return used


def _self_test() -> None:
    assert metric_names('sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m])) > 0.05') == {"http_requests_total"}
    assert metric_names("histogram_quantile(0.99, sum by (le) (rate(x_bucket{job=~\"$job\"}[$__rate_interval])))") == {"x_bucket"}
    assert metric_names('max by (vhost, queue) (rabbitmq_queue_messages{queue=~".+\\\\.dlq"}) > 0') == {"rabbitmq_queue_messages"}
    assert metric_names("a / on(job) group_left(x) b offset 5m > 1e3") == {"a", "b"}
    assert metric_names("sum(rate(a[1m])) by (job)") == {"a"}
    assert grafana_variable_names("label_values(http_requests_total, job)") == {"http_requests_total"}
    assert grafana_variable_names("label_values(job)") == set()


if __name__ == "__main__":
    _self_test()
    print("promql: self-test ok")

#!/usr/bin/env python3
"""Write the Grafana dashboards of compose/grafana/dashboards/ from the compact specs below.

  grafana_dashboards.py           rewrite the JSON files
  grafana_dashboards.py --check   exit 1 if a JSON file differs from what this script writes

Dashboards are code here (a panel is a title, a unit and PromQL), and the JSON that Grafana's
file provisioning loads is generated from it, so a renamed metric is one edit.
scripts/ops/check_prometheus_metrics.py checks that every metric named here exists.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "compose" / "grafana" / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
SERVICES = "complaint-service|notification-service|audit-service|event-store-service"
WORK_QUEUES = 'queue!~".+\\\\.(dlq|retry\\\\.[0-9]+ms)|events\\\\.unrouted"'
RATE = "$__rate_interval"


def ts(title, targets, unit="short", width=12, stack=False, description=""):
    """A time series panel; targets are (expr, legend) pairs."""
    return {"kind": "timeseries", "title": title, "targets": targets, "unit": unit,
            "width": width, "stack": stack, "description": description}


def stat(title, targets, unit="short", width=6, thresholds=None, description=""):
    return {"kind": "stat", "title": title, "targets": targets, "unit": unit,
            "width": width, "thresholds": thresholds, "description": description}


def row(title):
    return {"kind": "row", "title": title}


def quantiles(metric, by, selector="", qs=(0.5, 0.95, 0.99)):
    legend_by = " ".join("{{%s}}" % label for label in by.split(", ") if label != "le")
    return [
        (f"histogram_quantile({q}, sum by ({by}) (rate({metric}_bucket{selector}[{RATE}])))",
         f"p{int(q * 100)} {legend_by}".strip())
        for q in qs
    ]


JOB = '{job=~"$job"}'

DASHBOARDS = {
    "http-golden-signals": {
        "title": "HTTP golden signals",
        "description": "Traffic, errors, latency and saturation of the four services' REST APIs.",
        "variables": [("job", "label_values(http_requests_total, job)")],
        "panels": [
            stat("Services up", [(f'sum(up{{job=~"{SERVICES}"}})', "up")], thresholds=[("red", None), ("orange", 1), ("green", 4)]),
            stat("Requests/s", [(f"sum(rate(http_requests_total{JOB}[{RATE}]))", "req/s")], unit="reqps"),
            stat("5xx ratio", [(f'sum(rate(http_requests_total{{job=~"$job", status=~"5.."}}[{RATE}])) / sum(rate(http_requests_total{JOB}[{RATE}]))', "5xx")],
                 unit="percentunit", thresholds=[("green", None), ("orange", 0.01), ("red", 0.05)]),
            stat("p99 latency", [(f"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{JOB}[{RATE}])))", "p99")], unit="s"),
            row("Traffic"),
            ts("Requests/s by route", [(f"sum by (job, method, route) (rate(http_requests_total{JOB}[{RATE}]))", "{{job}} {{method}} {{route}}")], unit="reqps", width=24),
            row("Errors"),
            ts("5xx/s by route", [(f'sum by (job, route, status) (rate(http_requests_total{{job=~"$job", status=~"5.."}}[{RATE}]))', "{{job}} {{route}} {{status}}")], unit="reqps",
               description="Server errors: a dependency is down or a bug. Users' mistakes are 4xx."),
            ts("4xx/s by route", [(f'sum by (job, route, status) (rate(http_requests_total{{job=~"$job", status=~"4.."}}[{RATE}]))', "{{job}} {{route}} {{status}}")], unit="reqps"),
            row("Latency"),
            ts("Latency by service", quantiles("http_request_duration_seconds", "job, le", JOB), unit="s"),
            ts("p95 latency by route", [(f"histogram_quantile(0.95, sum by (job, route, le) (rate(http_request_duration_seconds_bucket{JOB}[{RATE}])))", "{{job}} {{route}}")], unit="s"),
            row("Saturation"),
            ts("Work waiting in RabbitMQ", [(f"sum by (queue) (rabbitmq_queue_messages_ready{{{WORK_QUEUES}}})", "{{queue}}")],
               description="Events delivered to the services' queues but not yet consumed."),
            ts("Outbox backlog", [("max by (job) (outbox_pending)", "{{job}}")],
               description="Committed events not yet confirmed by RabbitMQ."),
        ],
    },
    "event-flow": {
        "title": "Event flow",
        "description": "Commands in, events through the outbox to RabbitMQ, consumers out.",
        "variables": [],
        "panels": [
            row("Commands (complaint-service)"),
            ts("Commands/s by command and outcome", [(f"sum by (command, outcome) (rate(command_executions_total[{RATE}]))", "{{command}} {{outcome}}")], unit="ops"),
            ts("Command latency", quantiles("command_duration_seconds", "le"), unit="s"),
            row("Publishing"),
            ts("Events published/s by exchange", [(f'sum by (exchange) (rate(events_published_total{{outcome="ok"}}[{RATE}]))', "{{exchange}}")], unit="ops", stack=True),
            ts("Publish failures/s", [(f'sum by (job, exchange) (rate(events_published_total{{outcome="error"}}[{RATE}]))', "{{job}} {{exchange}}")], unit="ops",
               description="Nacked or timed-out publisher confirms; the outbox retries them."),
            ts("Publish latency (confirm round trip)", quantiles("event_publishing_duration_seconds", "job, le"), unit="s"),
            ts("Outbox", [("max by (job) (outbox_pending)", "pending {{job}}"), (f"sum by (job) (rate(outbox_relayed_total[{RATE}]))", "relayed/s {{job}}")]),
            ts("Events published/s by type", [(f'sum by (event_type) (rate(events_published_total{{outcome="ok"}}[{RATE}]))', "{{event_type}}")], unit="ops", width=24),
            row("Consuming"),
            ts("Messages consumed/s by queue and outcome", [(f"sum by (queue, outcome) (rate(messages_consumed_total[{RATE}]))", "{{queue}} {{outcome}}")], unit="ops"),
            ts("Processing latency p95 by queue", [(f"histogram_quantile(0.95, sum by (queue, le) (rate(event_processing_duration_seconds_bucket[{RATE}])))", "{{queue}}")], unit="s"),
            ts("Consumer lag (ready messages)", [(f"sum by (queue) (rabbitmq_queue_messages_ready{{{WORK_QUEUES}}})", "{{queue}}")]),
            ts("Consumers per queue", [(f"sum by (queue) (rabbitmq_queue_consumers{{{WORK_QUEUES}}})", "{{queue}}")]),
            row("Read side (complaint-service projections)"),
            ts("Projection lag", [("max(projection_lag_events)", "events behind"), ("max(projection_lag_seconds)", "seconds behind")]),
            ts("Projection updates/s", [(f"sum(rate(projection_updates_total[{RATE}]))", "events applied/s")], unit="ops"),
            ts("Queries/s by query", [(f"sum by (query) (rate(query_executions_total[{RATE}]))", "{{query}}")], unit="ops"),
            ts("Broker connection losses", [(f"sum by (job) (increase(rabbitmq_connection_losses_total[{RATE}]))", "{{job}}")]),
            row("Audit trail (audit-service)"),
            ts("Events audited/s by type", [(f"sum by (event_type) (rate(audit_events_recorded_total[{RATE}]))", "{{event_type}}")], unit="ops", stack=True),
            ts("Audit lag (event time to recorded)", quantiles("audit_lag_seconds", "le", qs=(0.5, 0.99)) + [("max(audit_last_lag_seconds)", "last")], unit="s"),
            ts("Chain verifications by outcome", [(f"sum by (outcome) (increase(audit_verifications_total[{RATE}]))", "{{outcome}}")]),
        ],
    },
    "sagas": {
        "title": "Sagas",
        "description": "The choreographed sagas (acknowledgement, assignment with compensation, SLA escalation) and the notifications they send.",
        "variables": [],
        "panels": [
            stat("Sagas finished (1h)", [("sum(increase(saga_executions_total[1h]))", "sagas")]),
            stat("Failed (1h)", [('sum(increase(saga_executions_total{outcome="failed"}[1h]))', "failed")], thresholds=[("green", None), ("red", 1)]),
            stat("Compensated (1h)", [("sum(increase(saga_compensations_total[1h]))", "compensated")], thresholds=[("green", None), ("orange", 1)]),
            stat("Notifications waiting", [("max(notifications_pending)", "pending")]),
            ts("Sagas/s by saga and outcome", [(f"sum by (saga, outcome) (rate(saga_executions_total[{RATE}]))", "{{saga}} {{outcome}}")], unit="ops"),
            ts("Compensations/s by saga", [(f"sum by (saga) (rate(saga_compensations_total[{RATE}]))", "{{saga}}")], unit="ops"),
            ts("Saga duration", quantiles("saga_execution_duration_seconds", "saga, le", qs=(0.5, 0.95, 0.99)), unit="s", width=24),
            row("Notifications (notification-service)"),
            ts("Sent/s by step", [(f"sum by (step) (rate(notifications_sent_total[{RATE}]))", "{{step}}")], unit="ops", stack=True),
            ts("Failed and retried/s", [(f"sum by (reason_kind) (rate(notifications_failed_total[{RATE}]))", "failed {{reason_kind}}"),
                                        (f"sum(rate(notifications_retried_total[{RATE}]))", "retried")], unit="ops"),
            ts("Delivery time", [(f"histogram_quantile(0.95, sum by (channel, le) (rate(notification_delivery_duration_seconds_bucket[{RATE}])))", "p95 {{channel}}")], unit="s"),
            ts("Compensations (retracted notifications, compensated audit entries)",
               [(f"sum by (step) (increase(notification_compensations_total[{RATE}]))", "notifications {{step}}"),
                (f"sum(increase(audit_entries_compensated_total[{RATE}]))", "audit entries")]),
        ],
    },
    "dead-letters": {
        "title": "Dead letters and retries",
        "description": "What could not be handled: DLQ depth, dead-lettering rate, retries, unrouted events.",
        "variables": [],
        "panels": [
            stat("Dead letters waiting", [('sum(rabbitmq_queue_messages{queue=~".+\\\\.dlq"})', "dead letters")], thresholds=[("green", None), ("red", 1)]),
            stat("Unrouted events", [('sum(rabbitmq_queue_messages{queue="events.unrouted"})', "unrouted")], thresholds=[("green", None), ("orange", 1)]),
            stat("In retry (delay queues)", [('sum(rabbitmq_queue_messages{queue=~".+\\\\.retry\\\\.[0-9]+ms"})', "retrying")]),
            stat("Dead-lettered (1h)", [("sum(increase(messages_dead_lettered_total[1h]))", "dead-lettered")]),
            ts("DLQ depth by queue", [('sum by (queue) (rabbitmq_queue_messages{queue=~".+\\\\.dlq"})', "{{queue}}")], width=24,
               description="Inspect with GET /admin/dead-letters/<work queue>; re-drive with POST …/redrive."),
            ts("Dead-lettered/s by queue and kind", [(f"sum by (queue, kind) (rate(messages_dead_lettered_total[{RATE}]))", "{{queue}} {{kind}}")], unit="ops"),
            ts("Consumer outcomes/s", [(f'sum by (queue, outcome) (rate(messages_consumed_total{{outcome!="ok"}}[{RATE}]))', "{{queue}} {{outcome}}")], unit="ops",
               description="Everything but a plain ack: retries scheduled, dead letters."),
            ts("Delay queue depth", [('sum by (queue) (rabbitmq_queue_messages{queue=~".+\\\\.retry\\\\.[0-9]+ms"})', "{{queue}}")]),
            ts("Unrouted events", [('sum by (vhost) (rabbitmq_queue_messages{queue="events.unrouted"})', "{{vhost}}")]),
        ],
    },
    "errors-and-monitoring": {
        "title": "Errors by severity and monitoring",
        "description": "ERROR_* events by severity, kind and service (issue 15); the mail circuit breaker; MONITORING_* episodes.",
        "variables": [],
        "panels": [
            stat("CRITICAL errors (1h)", [('sum(increase(errors_total{severity="CRITICAL"}[1h]))', "critical")], thresholds=[("green", None), ("red", 1)]),
            stat("HIGH errors (1h)", [('sum(increase(errors_total{severity="HIGH"}[1h]))', "high")], thresholds=[("green", None), ("orange", 1)]),
            stat("MEDIUM errors (1h)", [('sum(increase(errors_total{severity="MEDIUM"}[1h]))', "medium")], thresholds=[("green", None), ("yellow", 20)]),
            stat("LOW errors (1h)", [('sum(increase(errors_total{severity="LOW"}[1h]))', "low")], thresholds=[("green", None), ("yellow", 50)]),
            ts("Errors/s by severity", [(f"sum by (severity) (rate(errors_total[{RATE}]))", "{{severity}}")], unit="ops", width=12, stack=True,
               description="Validation LOW, transient or timeout MEDIUM, infrastructure HIGH, saga or compensation CRITICAL."),
            ts("Errors/s by service and kind", [(f"sum by (service, kind) (rate(errors_total[{RATE}]))", "{{service}} {{kind}}")], unit="ops", width=12),
            ts("Mail circuit state (0 closed, 1 half-open, 2 open)", [("max by (job, circuit) (circuit_state)", "{{job}} {{circuit}}")], width=12,
               description="Open: notifications wait in the database; /ready says degraded."),
            ts("Deliveries held by the open circuit/s", [(f"sum by (job) (rate(notifications_held_total[{RATE}]))", "{{job}}")], unit="ops", width=12),
            ts("Monitoring episodes raised", [(f"sum by (job, event_type) (increase(monitoring_events_total[{RATE}]))", "{{job}} {{event_type}}")], width=24,
               description="MONITORING_* events on monitoring.events: one per episode (lag, DLQ growing, dependency down); circuit edges are counted in circuit_opened_total."),
        ],
    },
    "event-store": {
        "title": "Event store",
        "description": "event-store-service: ingestion into MongoDB, Redis Streams mirroring, queries and replays.",
        "variables": [],
        "panels": [
            stat("Events stored", [("max(event_store_event_count)", "events")]),
            stat("Ingestion lag p99", [(f"histogram_quantile(0.99, sum by (le) (rate(event_store_ingestion_lag_seconds_bucket[{RATE}])))", "p99")], unit="s"),
            stat("Mean batch size", [(f"sum(rate(event_store_batch_size_sum[{RATE}])) / sum(rate(event_store_batch_size_count[{RATE}]))", "events/batch")]),
            stat("Ingestion queue", [('sum(rabbitmq_queue_messages_ready{queue="event-store-service.all-events"})', "waiting")]),
            ts("Operations/s by operation and outcome", [(f"sum by (operation, outcome) (rate(event_store_operations_total[{RATE}]))", "{{operation}} {{outcome}}")], unit="ops", width=24),
            ts("Ingestion lag (event time to stored)", quantiles("event_store_ingestion_lag_seconds", "le"), unit="s"),
            ts("Stored events", [("max(event_store_event_count)", "events")]),
            ts("MongoDB write time", quantiles("event_store_mongo_write_seconds", "le", qs=(0.5, 0.99)), unit="s",
               description="Time waiting on MongoDB (the local stand-in is much slower than a real server)."),
            ts("Redis write time", quantiles("event_store_redis_write_seconds", "le", qs=(0.5, 0.99)), unit="s"),
            ts("Replay duration", [(f"histogram_quantile(0.95, sum by (target, le) (rate(event_store_replay_duration_seconds_bucket[{RATE}])))", "p95 {{target}}")], unit="s"),
            ts("Replayed events/s", [(f"sum by (target) (rate(event_store_replayed_events_total[{RATE}]))", "{{target}}")], unit="ops"),
        ],
    },
}


# ---- rendering ----------------------------------------------------------------------------------


def thresholds_of(steps):
    steps = steps or [("green", None)]
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


def render_panel(spec, panel_id, x, y):
    if spec["kind"] == "row":
        return {"id": panel_id, "type": "row", "title": spec["title"], "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []}, 1
    height = 4 if spec["kind"] == "stat" else 8
    targets = [
        {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": chr(ord("A") + i), "range": True}
        for i, (expr, legend) in enumerate(spec["targets"])
    ]
    panel = {
        "id": panel_id,
        "type": spec["kind"],
        "title": spec["title"],
        "description": spec.get("description", ""),
        "datasource": DATASOURCE,
        "gridPos": {"h": height, "w": spec["width"], "x": x, "y": y},
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": spec["unit"], "thresholds": thresholds_of(spec.get("thresholds"))}, "overrides": []},
    }
    if spec["kind"] == "timeseries":
        panel["fieldConfig"]["defaults"]["custom"] = {
            "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
            "stacking": {"mode": "normal" if spec["stack"] else "none", "group": "A"},
        }
        panel["options"] = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                            "tooltip": {"mode": "multi", "sort": "desc"}}
    else:
        panel["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                            "colorMode": "value", "graphMode": "area", "textMode": "auto"}
    return panel, height


def render(uid, spec):
    panels, x, y, row_height, panel_id = [], 0, 0, 0, 1
    for panel_spec in spec["panels"]:
        if panel_spec["kind"] == "row" or x + panel_spec.get("width", 24) > 24:
            y, x, row_height = y + row_height, 0, 0
        panel, height = render_panel(panel_spec, panel_id, x, y)
        panels.append(panel)
        panel_id += 1
        if panel_spec["kind"] == "row":
            y += 1
        else:
            x += panel_spec["width"]
            row_height = max(row_height, height)
    variables = [
        {"name": name, "type": "query", "datasource": DATASOURCE, "query": {"query": query, "refId": "vars"},
         "definition": query, "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2,
         "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "sort": 1}
        for name, query in spec["variables"]
    ]
    return {
        "uid": uid,
        "title": spec["title"],
        "description": spec["description"],
        "tags": ["complaint-suite"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": variables},
        "annotations": {"list": []},
        "links": [{"type": "dashboards", "tags": ["complaint-suite"], "title": "Complaint suite", "asDropdown": True}],
        "panels": panels,
    }


def expected_files():
    return {OUT / f"{uid}.json": json.dumps(render(uid, spec), indent=2) + "\n" for uid, spec in DASHBOARDS.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the JSON files are not up to date")
    args = parser.parse_args()
    files = expected_files()
    if args.check:
        stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
        extra = [p for p in OUT.glob("*.json") if p not in files]
        if stale or extra:
            for p in stale:
                print(f"grafana_dashboards: {p.relative_to(ROOT)} is not what the script generates", file=sys.stderr)
            for p in extra:
                print(f"grafana_dashboards: {p.relative_to(ROOT)} has no spec in the script", file=sys.stderr)
            print("grafana_dashboards: FAILED: run scripts/ops/grafana_dashboards.py", file=sys.stderr)
            return 1
        print(f"grafana_dashboards: ok: {len(files)} dashboards up to date")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text)
    print(f"grafana_dashboards: wrote {len(files)} dashboards to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

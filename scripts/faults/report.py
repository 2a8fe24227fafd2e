"""The trial's figures, and how they are printed."""

from __future__ import annotations

from dataclasses import dataclass, field

from faults import Fault
from views import VIEWS, Findings

EXAMPLES = 3


@dataclass
class Trial:
    fault: Fault
    injected_at: float = 0.0
    injection: str = ""
    injection_error: str | None = None
    repaired_after: float = 0.0
    recovery: float | None = None
    complaints: int = 0
    commands: dict = field(default_factory=dict)
    client_errors: dict = field(default_factory=dict)
    findings: Findings = field(default_factory=Findings)
    settled_after: float = 0.0
    check_rounds: int = 0
    recovery_waited_on: list = field(default_factory=list)
    audit_chain: str | None = None
    dead_letter_growth: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.findings.any_lost or self.findings.any_duplicated or self.audit_chain
                    or self.dead_letter_growth or self.injection_error or self.recovery is None)


def trial(t: Trial) -> str:
    lines = [f"fault at {t.injected_at:.1f} s: {t.injection or t.injection_error} (repaired {t.repaired_after:.1f} s later)"]
    lines.append(f"{t.complaints} complaints, commands {_counts(t.commands)}")
    lines.append(f"  {'view':<22}{'lost':>6}{'duplicated':>12}")
    for view in VIEWS:
        lost, dup = t.findings.lost[view], t.findings.duplicated[view]
        lines.append(f"  {view:<22}{len(lost):>6}{len(dup):>12}")
        for example in (lost[:EXAMPLES] + dup[:EXAMPLES]):
            lines.append(f"      e.g. {example}")
    resent = t.findings.resent_mails
    if resent:
        lines.append(f"  mails sent again after the fault cut the sender off before it recorded them"
                     f" (at-least-once): {len(resent)}")
        lines += [f"      e.g. {example}" for example in resent[:EXAMPLES]]
    lines.append(f"  audit /verify: {'chain intact' if t.audit_chain is None else t.audit_chain}")
    lines.append(f"  client errors: {_counts(t.client_errors) or 'none'}")
    lines.append(f"  dead-letter growth: {_counts(t.dead_letter_growth) or 'none'}")
    recovery = "did not recover" if t.recovery is None else f"{t.recovery:.1f} s"
    last = f" (the last view(s) to catch up: {', '.join(t.recovery_waited_on)})" if t.recovery_waited_on else ""
    lines.append(f"  recovery (injection -> a complaint created after the repair is in every view): {recovery}{last}")
    lines.append(f"  views checked {t.check_rounds} times, {t.settled_after:.1f} s after the load")
    lines.append(f"  => {'FAILED' if t.failed else 'ok'}")
    return "\n".join(lines)


def summary(trials: list[Trial]) -> str:
    lines = [f"{'fault':<30}{'complaints':>11}{'lost':>6}{'dup':>5}{'client errors':>15}{'DLQ +':>7}{'recovery':>10}  result"]
    for t in trials:
        lost = sum(len(v) for v in t.findings.lost.values()) + (t.audit_chain is not None)
        dup = sum(len(v) for v in t.findings.duplicated.values())
        recovery = "-" if t.recovery is None else f"{t.recovery:.1f} s"
        lines.append(f"{t.fault.name:<30}{t.complaints:>11}{lost:>6}{dup:>5}{sum(t.client_errors.values()):>15}"
                     f"{sum(t.dead_letter_growth.values()):>7}{recovery:>10}  {'FAILED' if t.failed else 'ok'}")
    failed = [t.fault.name for t in trials if t.failed]
    lines.append(f"faults: {len(trials) - len(failed)} passed, {len(failed)} failed" + (f" ({', '.join(failed)})" if failed else ""))
    return "\n".join(lines)


def _counts(counter: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))

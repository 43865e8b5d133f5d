"""What a ``doctor`` check found, and the two ways it is shown: lines for people, JSON for scripts."""

from __future__ import annotations

import json

import attrs


@attrs.frozen(kw_only=True)
class Check:
    """The result of one check.

    Attributes:
        name: what was checked, e.g. ``"DNS"`` or ``"converse claude-opus-4.6"``.
        ok: ``True`` passed, ``False`` failed, ``None`` not run (``--no-call``, or an
            earlier failure made it pointless).
        essential: the proxy cannot work while this fails; only these decide the exit status.
        detail: what was found, never the key.
        fix: what to do about a failure, when there is something to do.
    """

    name: str
    ok: bool | None
    essential: bool
    detail: str
    fix: str | None = None

    @property
    def mark(self) -> str:
        """``ok``, ``FAIL`` (essential), ``warn`` (not essential) or ``skip``."""
        if self.ok is None:
            return "skip"
        if self.ok:
            return "ok"
        return "FAIL" if self.essential else "warn"


def skipped(name: str, reason: str, *, essential: bool = True) -> Check:
    """A check that did not run, and why."""
    return Check(name=name, ok=None, essential=essential, detail=f"not checked: {reason}")


def exit_status(checks: list[Check]) -> int:
    """0 when no essential check failed, else 1."""
    return 1 if any(check.essential and check.ok is False for check in checks) else 0


def line(check: Check) -> str:
    """The one line of ``check``: its mark, name and detail, and on a failure its fix."""
    fix = f" -> fix: {check.fix}" if check.fix and check.ok is False else ""
    return f"{check.mark:<4}  {check.name}: {check.detail}{fix}"


def summary(checks: list[Check]) -> str:
    """The closing line: which essential checks failed, or how many warnings there were."""
    failed = [check.name for check in checks if check.essential and check.ok is False]
    warned = sum(1 for check in checks if not check.essential and check.ok is False)
    if failed:
        return f"{len(failed)} essential check(s) failed: {', '.join(failed)}"
    return "the essential checks passed" + (f"; {warned} warning(s)" if warned else "")


def as_text(checks: list[Check]) -> str:
    """One line per check, then the summary line."""
    return "\n".join([*(line(check) for check in checks), summary(checks)])


def as_json(checks: list[Check]) -> str:
    """A JSON array of ``{name, ok, essential, detail, fix}`` objects."""
    return json.dumps([attrs.asdict(check) for check in checks], indent=2, ensure_ascii=False)

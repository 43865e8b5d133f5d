"""The judge's answer read into Claude Code's verdicts, failing closed at every doubt.

An answer that is not the agreed JSON, lacks a call, or comes back refused or cut short
gives ``unavailable`` for the calls concerned, which Claude Code refuses to run; nothing
here ever turns a doubt into ``not_flagged``. A flag's explanation always says that this
proxy's check decided, not Anthropic's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from domain.rules.auto_mode_policy import ProposedCall
from domain.vocab import anthropic as a

_RULE = re.compile(r"(?:auto_mode\.)?(allow|soft_deny|hard_deny)\.(0|[1-9][0-9]*)")
_REASON_LIMIT = 300
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def unavailable(reason: str) -> a.Verdict:
    """The verdict for a call the check could not judge (``error``, ``timeout``...)."""
    return a.Verdict(type="unavailable", reason=reason)


def available(verdicts: dict[str, a.Verdict]) -> tuple[a.SafeguardResult, ...]:
    """The one result of a response, with a verdict per tool use id."""
    return (a.SafeguardResult(status=a.SafeguardStatus(type="available", tool_uses=verdicts)),)


def check_down() -> tuple[a.SafeguardResult, ...]:
    """The result when the check as a whole failed: Claude Code refuses every call."""
    return (a.SafeguardResult(status=a.SafeguardStatus(type="unavailable", reason="error")),)


def _sentence(text: str) -> str:
    one_line = " ".join(text.split())
    if len(one_line) > _REASON_LIMIT:
        one_line = one_line[: _REASON_LIMIT - 1] + "…"
    return one_line.rstrip(".") or "no reason given"


def _cited(rule: Any, lists: dict[str, Any], flagged: bool) -> tuple[a.CitedRule | None, str | None]:
    """The rule the judge named, if it is one of the user's (Claude Code cites allow/soft_deny)."""
    match = _RULE.fullmatch(rule) if isinstance(rule, str) else None
    if match is None:
        return None, None
    kind, index = match[1], int(match[2])
    # An allow rule explains a pass, a deny rule a flag; the other way round cites nothing.
    if (kind == "allow") == flagged:
        return None, None
    entries = lists.get(kind)
    if not isinstance(entries, list) or index >= len(entries):
        return None, None
    text = entries[index] if isinstance(entries[index], str) else json.dumps(entries[index])
    cited = a.CitedRule(path=f"auto_mode.{kind}.{index}") if kind != "hard_deny" else None
    return cited, text


def _verdict(entry: dict[str, Any], lists: dict[str, Any]) -> a.Verdict:
    flagged = entry["flag"]
    cited, rule_text = _cited(entry.get("rule"), lists, flagged)
    if not flagged:
        return a.Verdict(type="evaluated", outcome="not_flagged", cited_rule=cited)
    because = f" (your rule: {_sentence(rule_text)})" if rule_text else ""
    explanation = (
        "nexus-claude-api's own auto-mode check (the Nexus model, not Anthropic's classifier) "
        f"flagged this call: {_sentence(entry['reason'])}{because}."
    )
    return a.Verdict(type="evaluated", outcome="flagged", explanation=explanation, cited_rule=cited)


def _answer(text: str) -> list[Any] | None:
    try:
        answer = json.loads(_FENCE.sub("", text.strip()))
    except ValueError:
        return None
    verdicts = answer.get("verdicts") if isinstance(answer, dict) else None
    return verdicts if isinstance(verdicts, list) else None


def _well_formed(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("tool_use_id"), str)
        and isinstance(entry.get("flag"), bool)
        and isinstance(entry.get("reason"), str)
    )


def read_verdicts(
    response: a.MessagesResponse, calls: tuple[ProposedCall, ...], auto_mode_rules: dict[str, Any]
) -> dict[str, a.Verdict]:
    """One verdict per call from the judge's answer; ``unavailable`` wherever it falls short.

    Args:
        response: the judge's whole answer.
        calls: the calls it was asked about.
        auto_mode_rules: ``classifier_context.auto_mode`` (lists ``allow``, ``soft_deny``,
            ``hard_deny``), to check and cite the rule the judge names.
    """
    if response.stop_reason == "refusal":
        return {call.id: unavailable("refused") for call in calls}
    text = "".join(block.text for block in response.content if isinstance(block, a.TextBlock))
    entries = _answer(text) if response.stop_reason != "max_tokens" else None
    if entries is None:
        return {call.id: unavailable("error") for call in calls}
    by_id: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        if _well_formed(entry):
            by_id.setdefault(entry["tool_use_id"], []).append(entry)
    verdicts: dict[str, a.Verdict] = {}
    for call in calls:
        answers = by_id.get(call.id, [])
        # None, or two that disagree, is no answer.
        if not answers or len({e["flag"] for e in answers}) > 1:
            verdicts[call.id] = unavailable("error")
        else:
            verdicts[call.id] = _verdict(answers[0], auto_mode_rules)
    return verdicts

"""The calls half of ``doctor``: one-token requests to AI Nexus through the product's gateway.

Each generation asks for one output token, so a full run costs a few tokens per model.
Nexus's answers arrive as the domain errors the proxy itself would see, so a check
fails exactly where ``start`` would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import attrs

from domain import errors
from domain.ports import ConverseGateway
from domain.rules.betas import CONTEXT_1M, FINE_GRAINED_TOOL_STREAMING
from domain.vocab import converse as c
from entrypoints.doctor_report import Check, skipped

# Bedrock's base ids of the models Nexus lists (Bedrock model cards); a region or
# "global." prefix makes the inference-profile id that Converse usually needs.
BEDROCK_BASE_IDS = {
    "claude-opus-4.6": "anthropic.claude-opus-4-6-v1",
    "claude-sonnet-4.6": "anthropic.claude-sonnet-4-6",
    "claude-haiku-4.5": "anthropic.claude-haiku-4-5-20251001-v1:0",
}
_PREFIXES = ("", "us.", "global.", "eu.")
_BEDROCK_PREFIX = re.compile(r"^(?:[a-z]+\.)?anthropic\.")
# Bedrock's words for a modelId it does not serve: "The provided model identifier is
# invalid." (400), "Model not found" (404), "retry ... with an inference profile" (400).
_UNKNOWN_MODEL = re.compile(r"model identifier is invalid|unknown model|model not found|inference profile", re.I)
_BETA_REFUSED = re.compile(r"beta", re.I)  # "invalid beta flag", "anthropic_beta: ..."
BETA_EFFECTS = {
    FINE_GRAINED_TOOL_STREAMING: "without it Bedrock buffers each tool call's input, so long tool calls arrive "
    "after a silence; nothing to set, the proxy sends it and drops it when refused",
    CONTEXT_1M: "the 1M-context entries of Claude Code's /model picker will not get 1M tokens; "
    "pick the plain entries; nothing to set",
}
KEY_FIX = "get a valid key from the AI Nexus portal and store it with `nexus-claude-api config set --api-key`"
NO_CALL = "--no-call skips the billed calls"
CA_FIX = (
    "a company CA (TLS inspection) is probably missing from this machine's trust store: install it there, "
    "or export REQUESTS_CA_BUNDLE=/path/to/company-ca.pem"
)
PROMPT = c.ConverseRequest(
    messages=(c.Message(role="user", content=(c.TextContent(text="Reply with OK."),)),),
    inference_config=c.InferenceConfig(max_tokens=1),
)


def bedrock_ids(exposed: str) -> tuple[str, ...]:
    """Bedrock-style spellings of ``exposed`` to try: the base id, then ``us.``, ``global.``, ``eu.``."""
    base = BEDROCK_BASE_IDS.get(exposed) or "anthropic." + _BEDROCK_PREFIX.sub("", exposed).replace(".", "-")
    return tuple(prefix + base for prefix in _PREFIXES)


def is_unknown_model(error: errors.UpstreamError) -> bool:
    """Whether Nexus refused the modelId itself rather than the key or the request."""
    if isinstance(error, errors.UpstreamNotFoundError):
        return True
    return isinstance(error, errors.UpstreamRejectedError) and bool(_UNKNOWN_MODEL.search(error.message))


def is_refused_beta(error: errors.UpstreamError) -> bool:
    """Whether a 400 names the beta flags (Bedrock: ``invalid beta flag``)."""
    return isinstance(error, errors.UpstreamRejectedError) and bool(_BETA_REFUSED.search(error.message))


@attrs.frozen(kw_only=True)
class Outcome:
    """What one call came to: ``error`` is ``None`` when Nexus served it."""

    model_id: str
    error: errors.UpstreamError | None = None
    tokens: int | None = None

    @property
    def ok(self) -> bool:
        """Nexus served the call."""
        return self.error is None


class NexusCalls:
    """The calls doctor makes, each made at most once per run (the key check reuses the first)."""

    def __init__(self, gateway: ConverseGateway) -> None:
        self._gateway = gateway
        self._done: dict[tuple[str, str, tuple[str, ...]], Outcome] = {}

    def converse(self, model_id: str, betas: tuple[str, ...] = ()) -> Outcome:
        """One one-token Converse call, with ``betas`` in ``anthropic_beta`` when given."""
        fields = {"anthropic_beta": list(betas)} if betas else None
        request = attrs.evolve(PROMPT, additional_model_request_fields=fields)

        def call() -> None:
            self._gateway.converse(model_id, request)

        return self._once("converse", model_id, betas, call)

    def stream(self, model_id: str) -> Outcome:
        """One one-token ConverseStream call, read to its end and decoded frame by frame."""
        return self._once("stream", model_id, (), lambda: self._read_stream(model_id))

    def count(self, model_id: str) -> Outcome:
        """One CountTokens call (not billed); ``tokens`` holds the count."""
        return self._once("count", model_id, (), lambda: self._gateway.count_tokens(model_id, PROMPT))

    def first_working(self, model_ids: Iterable[str]) -> tuple[Outcome, ...]:
        """Converse with each id in turn until one is served or refused for another reason
        than an unknown model; returns every outcome, the decisive one last."""
        outcomes: list[Outcome] = []
        for model_id in dict.fromkeys(model_ids):
            outcomes.append(self.converse(model_id))
            error = outcomes[-1].error
            if error is None or not is_unknown_model(error):
                break
        return tuple(outcomes)

    def _read_stream(self, model_id: str) -> None:
        stream = self._gateway.converse_stream(model_id, PROMPT)
        try:
            kinds = [type(event) for batch in stream.batches() for event in batch]
        finally:
            stream.close()
        if c.MessageStopEvent not in kinds:
            raise errors.UpstreamFailureError("the event stream ended without messageStop")

    def _once(self, operation: str, model_id: str, betas: tuple[str, ...], call: Callable[[], int | None]) -> Outcome:
        key = (operation, model_id, betas)
        if key not in self._done:
            try:
                self._done[key] = Outcome(model_id=model_id, tokens=call())
            except errors.UpstreamError as error:
                self._done[key] = Outcome(model_id=model_id, error=error)
        return self._done[key]


def call_checks(calls: NexusCalls, models: dict[str, str], config_file: str, *, billed: bool) -> list[Check]:
    """Key, then each exposed model (``models``: exposed id -> configured Nexus id), CountTokens, betas.

    The main model comes first in ``models``; its first call decides whether the key works.
    """
    main_id = next(iter(models.values()))
    key = key_check(calls, main_id, billed=billed)
    if key.ok is False:
        return [key, skipped("models", "the key was refused")]
    checks, working = [key], {}
    for exposed, configured in models.items():
        found, working_id = model_checks(calls, exposed, configured, config_file, billed=billed)
        checks += found
        if working_id:
            working[exposed] = working_id
    main = working.get(next(iter(models)), main_id)
    checks.append(count_check(calls, main))
    if billed and working:
        checks += beta_checks(calls, main)
    else:
        checks.append(skipped("betas", "no model answered" if billed else NO_CALL, essential=False))
    return checks


# Answers about the request rather than the key: the key passed the door to get them.
_ANSWERED = (
    errors.UpstreamRejectedError,
    errors.UpstreamNotFoundError,
    errors.UpstreamThrottledError,
    errors.UpstreamOverloadedError,
)


def key_check(calls: NexusCalls, model_id: str, *, billed: bool) -> Check:
    """Whether Nexus accepts the key: a one-token call, or under ``--no-call`` CountTokens (not billed)."""
    outcome = calls.converse(model_id) if billed else calls.count(model_id)
    how = "a one-token Converse call" if billed else "CountTokens (not billed)"
    error = outcome.error
    if error is None:
        return Check(name="key accepted", ok=True, essential=True, detail=f"yes, {how} to {model_id} was served")
    if isinstance(error, errors.UpstreamAuthError):
        return Check(name="key accepted", ok=False, essential=True, detail=error.message, fix=KEY_FIX)
    if not isinstance(error, _ANSWERED):
        return Check(name="key accepted", ok=False, essential=True, detail=error.message, fix=unreachable_fix(error))
    if not billed:
        return skipped("key accepted", f"CountTokens answered: {error.message}; run doctor without --no-call")
    # Nexus judged the request itself (an unknown model, a 400, a busy model): the key got through.
    return Check(name="key accepted", ok=True, essential=True, detail=f"yes, Nexus answered: {error.message}")


def unreachable_fix(error: errors.UpstreamError) -> str:
    """The fix for a call that got no usable answer from Nexus."""
    if "TLS" in error.message:
        return CA_FIX
    if isinstance(error, errors.UpstreamUnreachableError | errors.UpstreamTimeoutError):
        return "check endpoint_url, the VPN, and HTTPS_PROXY / NO_PROXY"
    return "check that endpoint_url is the AI Nexus Bedrock Runtime base URL (no path)"


def model_checks(
    calls: NexusCalls, exposed: str, configured: str, config_file: str, *, billed: bool
) -> tuple[list[Check], str | None]:
    """Converse and ConverseStream for one exposed model; returns the modelId that worked."""
    if not billed:
        return [skipped(f"converse {exposed}", NO_CALL), skipped(f"stream {exposed}", NO_CALL)], None
    outcomes = calls.first_working((configured, *bedrock_ids(exposed)))
    last = outcomes[-1]
    converse = _converse_check(exposed, configured, outcomes, config_file)
    working = last.model_id if last.ok else None
    stream = calls.stream(working or configured)
    if stream.error is None:
        detail = f"streams with modelId {stream.model_id}; the event stream decodes"
        stream_check = Check(name=f"stream {exposed}", ok=True, essential=True, detail=detail)
    else:
        stream_check = Check(name=f"stream {exposed}", ok=False, essential=True, detail=stream.error.message)
    return [converse, stream_check], working


def _converse_check(exposed: str, configured: str, outcomes: tuple[Outcome, ...], config_file: str) -> Check:
    name, last = f"converse {exposed}", outcomes[-1]
    if last.ok and last.model_id == configured:
        return Check(name=name, ok=True, essential=True, detail=f"answers with modelId {configured}")
    if last.ok:
        mapping = f'"upstream_model_ids": {{"{exposed}": "{last.model_id}"}}'
        detail = f"Nexus does not know modelId {configured}, but {last.model_id} works"
        return Check(name=name, ok=False, essential=True, detail=detail, fix=f"add {mapping} to {config_file}")
    assert last.error is not None
    if is_unknown_model(last.error):
        tried = ", ".join(outcome.model_id for outcome in outcomes)
        mapping = f'"upstream_model_ids": {{"{exposed}": "..."}}'
        ask = f"ask the AI Nexus team for its modelId and add {mapping} to {config_file}"
        return Check(name=name, ok=False, essential=True, detail=f"Nexus knows none of {tried}", fix=ask)
    fix: str | None = None
    if isinstance(last.error, errors.UpstreamAuthError):
        fix = f"this key may not use {exposed}; choose a model it may use with `nexus-claude-api config set --model`"
    return Check(name=name, ok=False, essential=True, detail=last.error.message, fix=fix)


def count_check(calls: NexusCalls, model_id: str) -> Check:
    """Whether CountTokens works for ``model_id``; the proxy estimates without it."""
    outcome = calls.count(model_id)
    if outcome.error is None:
        detail = f"available for {model_id} ({outcome.tokens} tokens in the test prompt)"
        return Check(name="CountTokens", ok=True, essential=False, detail=detail)
    return Check(
        name="CountTokens",
        ok=False,
        essential=False,
        detail=f"not available for {model_id}: {outcome.error.message}",
        fix="nothing to set: the proxy estimates token counts locally (Claude Code's /context shows estimates)",
    )


def beta_checks(calls: NexusCalls, model_id: str) -> list[Check]:
    """One one-token call per beta flag the proxy relies on, the flag in ``anthropic_beta``."""
    checks = []
    for flag, effect in BETA_EFFECTS.items():
        error = calls.converse(model_id, (flag,)).error
        if error is None:
            checks.append(Check(name=f"beta {flag}", ok=True, essential=False, detail=f"accepted on {model_id}"))
            continue
        refused = "refused" if is_refused_beta(error) else "failed"
        detail = f"{refused} on {model_id}: {error.message}"
        checks.append(Check(name=f"beta {flag}", ok=False, essential=False, detail=detail, fix=effect))
    return checks

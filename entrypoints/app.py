"""The composition root: the one place where adapters are built and wired."""

from __future__ import annotations

import ctypes
import gc
import importlib.metadata
from typing import Any
from urllib.parse import urlsplit

import attrs
import falcon
import falcon.asgi

from adapters.http import errors
from adapters.http.auto_mode_judge import TimedJudge
from adapters.http.body import JsonMedia
from adapters.http.disconnect import DisconnectSignal, ShutdownSignal
from adapters.http.http_version import HttpVersionGuard
from adapters.http.local_only import LocalOnly
from adapters.http.request_context import RequestContext
from adapters.http.resources import (
    CountTokensResource,
    HealthResource,
    MessagesResource,
    ModelsResource,
    OnceNotice,
)
from adapters.http.sse import LANE
from adapters.http.threads import BlockingRunner, ByteBudget, StreamSlots
from adapters.http.traffic import TrafficLog
from adapters.nexus.gateway import RequestsConverseGateway
from domain.errors import ConfigError
from domain.ports import ConverseGateway
from domain.rules.loopback import is_loopback
from domain.rules.models import MAX_OUTPUT_TOKENS, ModelCatalog
from domain.services.auto_mode import AutoModeCheck
from domain.services.counting import TokenCounter
from domain.services.relay import MessageRelay
from entrypoints.cpu_affinity import on_one_cpu
from entrypoints.settings import Settings

SWITCH_INTERVAL = 0.001
# On one CPU a forced hand-over is a switch on that CPU, cheap enough to take twice as often.
ONE_CPU_SWITCH_INTERVAL = 0.0005

AUTO_MODE_ANSWERED = (
    "auto mode's safety check: answered by this proxy with the Nexus model (auto_mode_check is on); "
    "weaker than Anthropic's own check, and one extra Nexus call per response with tool calls"
)


def package_version() -> str:
    """The installed package's version: the one number ``/health`` and ``--version`` show."""
    return importlib.metadata.version("nexus-claude-api")


def create_app(
    settings: Settings,
    gateway: ConverseGateway,
    *,
    runner: BlockingRunner | None = None,
    short_runner: BlockingRunner | None = None,
    ping_interval: float = 15.0,
    shutdown: ShutdownSignal | None = None,
    traffic: TrafficLog | None = None,
) -> Any:
    """Build the ASGI application around ``gateway`` (a fake in tests).

    ``runner`` is the pool for streams and other Nexus calls, ``short_runner`` the one
    for short work (parsing, translation, counting); tests pass them to watch them.
    Once ``shutdown`` begins, open streams end with an error event and pending calls
    answer 503. ``traffic`` receives one line per message request and keeps the totals.
    """
    catalog = ModelCatalog(
        main=settings.model,
        small=settings.small_model,
        upstream_ids=settings.upstream_model_ids,
        max_output_tokens={**MAX_OUTPUT_TOKENS, **settings.max_output_tokens},
    )
    relay = MessageRelay(
        gateway=gateway, catalog=catalog, beta_allowlist=settings.beta_allowlist, counter=TokenCounter()
    )
    notices: dict[str, OnceNotice] = {}
    if settings.auto_mode_check:
        # The judge asks through the plain relay: its own request is never checked.
        judge = TimedJudge(relay=relay, traffic=traffic, timeout=settings.auto_mode_check_timeout)
        relay = attrs.evolve(relay, auto_mode=AutoModeCheck(judge))
        notices["auto_mode_notice"] = OnceNotice(AUTO_MODE_ANSWERED)
    # As wide as the stream limit: every admitted stream or call finds a thread at once.
    runner = runner or BlockingRunner(max_workers=settings.max_streams, name="nexus-stream")
    short = short_runner or BlockingRunner(max_workers=settings.worker_threads, name="nexus-short")
    slots = StreamSlots(settings.max_streams)
    budget = ByteBudget(max(settings.body_budget_bytes, settings.max_body_bytes))
    middleware: list[Any] = [RequestContext(traffic), _local_only(settings)]
    app = falcon.asgi.App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    json_media = JsonMedia()  # orjson, with the body rules of adapters/http/body.py
    app.req_options.media_handlers[falcon.MEDIA_JSON] = json_media
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = json_media
    errors.install(app)
    health = HealthResource(
        info={
            "version": package_version(),
            "upstream": urlsplit(settings.endpoint_url).netloc,
            "models": list(catalog.exposed),
        }
    )
    models = ModelsResource(catalog)
    app.add_route("/", health)
    app.add_route("/health", health)
    app.add_route("/v1/models", models)
    app.add_route("/v1/models/{model_id}", models, suffix="model")
    app.add_route(
        "/v1/messages",
        MessagesResource(
            relay=relay,
            runner=runner,
            max_body_bytes=settings.max_body_bytes,
            short=short,
            slots=slots,
            budget=budget,
            ping_interval=ping_interval,
            idle_limit=settings.stream_idle_limit,
            shutdown=shutdown,
            traffic=traffic,
            **notices,
        ),
    )
    app.add_route(
        "/v1/messages/count_tokens",
        CountTokensResource(
            relay=relay, runner=short, max_body_bytes=settings.max_body_bytes, budget=budget, shutdown=shutdown
        ),
    )
    # Falcon raises on an HTTP version it does not know (h11 lets "HTTP/2.0" through).
    return HttpVersionGuard(DisconnectSignal(app))


def _local_only(settings: Settings) -> LocalOnly:
    # Beyond loopback the token is required; without one the app is not built at all.
    wide = not is_loopback(settings.host)
    if wide and not settings.access_token:
        raise ConfigError(f"listening on {settings.host} needs an access token; none was given")
    return LocalOnly(
        allowed_hosts=(settings.host, *settings.allowed_hosts),
        access_token=settings.access_token if wide else None,
        hint=" or a name listed in allowed_hosts in the config file" if wide else "",
    )


# glibc's mallopt options: the size from which allocations get pages of their own, and
# how many heaps ("arenas") threads may spread over.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 128 * 1024
_M_ARENA_MAX = -8
_ARENAS = 2


def map_large_buffers() -> None:
    """Have glibc give every large buffer pages of its own, and keep to two heaps.

    By default glibc raises the mmap threshold each time a large buffer is freed (up to
    32 MB), so a large body's later copies come from the heap of whichever worker thread
    made them, and stay there: a 24 MB request then peaked at 4x its size instead of 3x.
    Fixing the threshold turns the dynamic raise off. And it gives threads up to 8 heaps
    per core, each holding its own free memory: with 80 pool threads that was 3-4 MB more
    after 2,000 requests (figure 6), for no speed, as the GIL serialises them anyway.
    Must run before the pools start their threads. Elsewhere than glibc: nothing.
    """
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    mallopt(_M_ARENA_MAX, _ARENAS)


# Container allocations between two young collections. A streamed event makes a few that
# die within microseconds; at CPython's 700, a collection every ~100 events still walked
# them (~6% of a stream's CPU, measured). 20,000 also removed the collections inside a
# request (~0.2 ms of figure (1)) but let RSS grow 1.6-2.7 MB over 1,500 requests (figure
# 6, target < 2 MB); at 2,000 the growth stayed as at 700 (+1.4-1.6 MB).
YOUNG_COLLECTION = 2000


def settle_collector() -> None:
    """Freeze what startup built, out of every later garbage collection; collect less often.

    A request's body and value objects, promoted to the oldest generation by the
    collections that run while it is alive, made that generation's collection scan
    everything startup built too: ~30 ms of a request, a few times per thousand (measured).
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION, older, oldest)


def build_app(
    settings: Settings,
    shutdown: ShutdownSignal | None = None,
    traffic: TrafficLog | None = None,
    *,
    serving: bool = False,
) -> Any:
    """Build the ASGI application that talks to the real AI Nexus.

    When ``shutdown`` begins, every connection to Nexus is shut down too, which ends the
    calls still waiting for an answer. ``serving`` (the process serves this app and nothing
    else, as ``start`` and ``claude`` do) tunes the interpreter for it and starts every pool
    thread up front.
    """
    map_large_buffers()
    gateway = RequestsConverseGateway(
        endpoint_url=settings.endpoint_url,
        api_key=settings.api_key,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        # Every stream and every short call (a count) may hold a connection at once.
        pool_size=settings.max_streams + settings.worker_threads,
    )
    if shutdown is not None:
        shutdown.on_begin(gateway.close)
    if not serving:
        return create_app(settings, gateway, shutdown=shutdown, traffic=traffic)
    # Stream readers are busy Python threads: while they run, a shorter GIL hand-over (5 ms
    # by default) lets the loop thread back in soon after each of its system calls. Measured
    # with the batch engine at 64 streams: /health p99 30-57 ms at 5 ms, 8-14 ms at 1 ms and
    # 10-13 ms at 0.2 ms, where the forced hand-overs cost the readers ~1 us per event more.
    # Kept to one CPU (entrypoints/cpu_affinity.py), with the stream engine of commit 5ebc655:
    # p99 9-11 ms at 0.5 ms against 11-16 ms at 1 ms, for the same CPU; 27 ms at 2 ms.
    LANE.hand_over_faster_while_streaming(ONE_CPU_SWITCH_INTERVAL if on_one_cpu() else SWITCH_INTERVAL)
    runner = BlockingRunner(max_workers=settings.max_streams, name="nexus-stream", prestart=True)
    short = BlockingRunner(max_workers=settings.worker_threads, name="nexus-short", prestart=True)
    app = create_app(settings, gateway, runner=runner, short_runner=short, shutdown=shutdown, traffic=traffic)
    settle_collector()
    return app

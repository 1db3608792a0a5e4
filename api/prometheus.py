"""Prometheus metrics of the service: a small in-process registry and the ASGI middleware that
feeds it (served at ``/metrics``).

Declared metrics (one registry per app, no global state):

    tailgraph_http_requests_total{method,route,status}        counter
    tailgraph_http_request_duration_seconds{method,route}    histogram
    tailgraph_candidates{source}                              histogram (candidates per request)

``route`` is the route *template* (``/users/{user_id}/recommendations``, ``unmatched`` for
anything else), so ids never become label values; ``method`` is one of the standard methods or
``other``, so made-up methods cannot grow the label sets either. Rendered in the Prometheus text
exposition format 0.0.4.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COUNT_BUCKETS = (0, 1, 5, 10, 25, 50, 100, 250, 500, 1000)

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: tuple[str, str] | None = None) -> str:
    pairs = [*labels, extra] if extra else list(labels)
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    """A monotonically increasing count per label set."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, label_names: Sequence[str]) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(label_names)
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple((n, str(labels[n])) for n in self.label_names)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(k)} {_number(v)}" for k, v in items]


class Histogram:
    """Observations in cumulative buckets, plus their sum and count, per label set."""

    kind = "histogram"

    def __init__(
        self, name: str, help_text: str, label_names: Sequence[str], buckets: Sequence[float]
    ) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(label_names)
        self.buckets = (*sorted(buckets), math.inf)
        self._values: dict[Labels, list[float]] = {}  # bucket counts..., sum, count
        self._lock = threading.Lock()

    def observe(self, value: float, **labels: str) -> None:
        key = tuple((n, str(labels[n])) for n in self.label_names)
        with self._lock:
            state = self._values.setdefault(key, [0.0] * (len(self.buckets) + 2))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    state[i] += 1
            state[-2] += value
            state[-1] += 1

    def render(self) -> list[str]:
        with self._lock:
            items = sorted((k, list(v)) for k, v in self._values.items())
        lines = []
        for key, state in items:
            for bound, count in zip(self.buckets, state, strict=False):
                lines.append(
                    f"{self.name}_bucket{_labels(key, ('le', _number(bound)))} {_number(count)}"
                )
            lines.append(f"{self.name}_sum{_labels(key)} {_number(state[-2])}")
            lines.append(f"{self.name}_count{_labels(key)} {_number(state[-1])}")
        return lines


class Metrics:
    """The service's registry: every metric it exports, declared here."""

    def __init__(self) -> None:
        self.requests = Counter(
            "tailgraph_http_requests_total",
            "HTTP requests answered.",
            ("method", "route", "status"),
        )
        self.latency = Histogram(
            "tailgraph_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ("method", "route"),
            LATENCY_BUCKETS,
        )
        self.candidates = Histogram(
            "tailgraph_candidates",
            "Candidates each recommendation ranked got from each source (an answer kept with "
            "its read and served again is not ranked again).",
            ("source",),
            COUNT_BUCKETS,
        )

    def render(self) -> str:
        lines: list[str] = []
        for metric in (self.requests, self.latency, self.candidates):
            lines.append(f"# HELP {metric.name} {metric.help}")
            lines.append(f"# TYPE {metric.name} {metric.kind}")
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})


def method_label(scope: dict[str, Any]) -> str:
    """The request method if it is a standard one, else ``other`` (label sets stay bounded)."""
    method = str(scope.get("method", "GET"))
    return method if method in METHODS else "other"


def route_template(scope: dict[str, Any]) -> str:
    """The matched route's path template, or ``unmatched`` (404s must not create new labels)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else "unmatched"


class MetricsMiddleware:
    """Pure ASGI middleware: count and time every HTTP request by route template.

    It also stamps ``X-Model-Version`` on every response: the version of the model the request
    used (set by the model dependency in ``scope["state"]``), else the default model's if loaded.
    An exception no handler took becomes a plain 500 here (logged with its traceback), so that
    response carries the header and is counted too.
    """

    def __init__(self, app: Any, metrics: Metrics, default_version: Any) -> None:
        self.app = app
        self.metrics = metrics
        self.default_version = default_version  # () -> str | None, never loads a model

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        state = scope.setdefault("state", {})  # shared with every Request built on this scope

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                version = state.get("model_version") or self.default_version()
                if version:
                    headers = list(message.get("headers", []))
                    headers.append((b"x-model-version", str(version).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        started_response = False

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal started_response
            if message["type"] == "http.response.start":
                started_response = True
            await send_wrapper(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started_response:
                raise
            body = b'{"detail":"Internal server error."}'
            await tracked(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await tracked({"type": "http.response.body", "body": body})
        finally:
            route = route_template(scope)
            method = method_label(scope)
            self.metrics.requests.inc(method=method, route=route, status=str(status))
            self.metrics.latency.observe(time.perf_counter() - started, method=method, route=route)

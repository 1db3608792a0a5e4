"""Terminal output for the command line and the demo: rich tables and progress bars on a
terminal, the same content as plain aligned lines in a log (no colour codes, no redrawn bars).
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from tailgraph.encoders.stage import EncodeReport
    from tailgraph.graph.ingest import IngestReport

# What each TailGNN training stage does (tailgraph.gnn.models.tailgnn explains the model).
STAGE_NOTES = {
    "collaborative": "LightGCN on the training interactions: the user and item vectors",
    "content": (
        "the text + KG tower trained into those vectors (LightGCN frozen); its validation "
        "judges the content tower alone, every item by text and KG, so it reads lower"
    ),
}

_EPOCH = re.compile(r"^epoch (\d+) loss ([\d.eE+-]+|nan) valid (\S+) ([\d.eE+-]+|nan)")
_STAGE = re.compile(r"^stage (\S+)$")


def make_console(stderr: bool = False) -> Console:
    """A console that draws on a terminal and writes plain, wide-enough lines otherwise."""
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    return Console(
        file=stream,
        highlight=False,
        width=None if terminal else 160,
        no_color=not terminal,
        soft_wrap=not terminal,  # a log keeps long lines whole
        emoji=False,
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:,.4f}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, default=str, ensure_ascii=False)


def _numeric(values: Sequence[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in present
    )


def _titled(title: str | None, body: Table) -> RenderableType:
    """A title line above a table (a rich table title would wrap to the table's width)."""
    return Group(Text(title), body) if title else body


def table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    title: str | None = None,
    max_width: int = 60,
    right: Sequence[str] = (),
) -> RenderableType:
    """Rows of dicts as a table: numeric columns (and ``right``) right-aligned, long cells
    shortened, an optional title line above."""
    names = list(columns) if columns is not None else list(rows[0]) if rows else []
    result = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in names:
        numeric = name in right or _numeric([row.get(name) for row in rows])
        result.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        cells = []
        for name in names:
            text = _text(row.get(name))
            cells.append(text if len(text) <= max_width else text[: max_width - 3] + "...")
        result.add_row(*cells)
    return _titled(title, result)


def metric_table(
    by_model: Mapping[str, Mapping[str, float]], columns: Mapping[str, str], title: str
) -> RenderableType:
    """One row per model, one right-aligned column per metric (4 decimals)."""
    result = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    result.add_column("model")
    for heading in columns.values():
        result.add_column(heading, justify="right")
    for model, metrics in by_model.items():
        cells = [f"{metrics.get(key, float('nan')):.4f}" for key in columns]
        result.add_row(model, *cells)
    return _titled(title, result)


def duration(seconds: float) -> str:
    """``42.1s`` or ``3m 05s``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s"


def ingest_table(report: IngestReport) -> RenderableType:
    """The store's node and relationship counts after an ingest, RECOMMENDED marked apart."""
    result = Table(box=None, pad_edge=False)
    result.add_column("in the store")
    result.add_column("count", justify="right")
    result.add_column("")
    for label, count in sorted(report.nodes.items()):
        result.add_row(f"(:{label})", f"{count:,}", "")
    for rel, count in sorted(report.relationships.items()):
        note = "written by `tailgraph train`, not by this ingest" if rel == "RECOMMENDED" else ""
        result.add_row(f"[:{rel}]", f"{count:,}", note)
    return _titled(
        f"ingested in {report.seconds:.1f}s ({report.rows_per_second:,.0f} rows/s)", result
    )


def encode_table(report: EncodeReport) -> RenderableType:
    """One line per label: nodes read, vectors written (encoded / from the cache), skipped."""
    rows = [
        {
            "label": label,
            "nodes": c.seen,
            "written": c.written,
            "encoded": c.encoded,
            "from cache": c.cached,
            "unchanged": c.unchanged,
            "no text": c.without_text,
        }
        for label, c in report.labels.items()
    ]
    title = (
        f"encoded with {report.model_id} in {report.seconds:.1f}s "
        f"({report.texts_encoded:,} distinct texts, {report.texts_per_second:,.0f} texts/s)"
    )
    return table(rows, title=title)


class TrainProgress:
    """The ``progress`` callback of training: a bar per training stage with epoch time and ETA
    on a terminal; on a log, each message once with the elapsed time and seconds per epoch.

    Training reports ``stage NAME`` and ``epoch N loss L valid METRIC V`` lines (every
    validation, so every ``eval_every`` epochs); anything else is printed as it comes.
    """

    def __init__(self, console: Console, max_epochs: int, label: str = "train") -> None:
        self.console = console
        self.max_epochs = max_epochs
        self.label = label
        self.stage = ""
        self.best: float | None = None
        self.epoch = 0
        self._started = time.perf_counter()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> TrainProgress:
        if self.console.is_terminal:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=30),
                MofNCompleteColumn(),
                TextColumn("epochs"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[note]}"),
                console=self.console,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._finish_task()
        if self._progress is not None:
            self._progress.stop()

    def _finish_task(self) -> None:
        if self._progress is not None and self._task is not None:
            # early stopping ends a stage before max_epochs: show where it stopped
            self._progress.update(self._task, total=max(self.epoch, 1), completed=self.epoch)
        self._task = None

    def _print(self, message: str) -> None:
        (self._progress.console if self._progress else self.console).print(message)

    def __call__(self, message: str) -> None:
        stage = _STAGE.match(message)
        if stage:
            self._finish_task()
            self.stage, self.best, self.epoch = stage.group(1), None, 0
            self._started = time.perf_counter()
            note = STAGE_NOTES.get(self.stage, "")
            self._print(f"stage {self.stage}" + (f": {note}" if note else ""))
            return
        epoch = _EPOCH.match(message)
        if not epoch:
            self._print(message)
            return
        self.epoch = int(epoch.group(1))
        value = float(epoch.group(4))
        self.best = value if self.best is None else max(self.best, value)
        elapsed = time.perf_counter() - self._started
        per_epoch = elapsed / max(self.epoch, 1)
        note = (
            f"loss {float(epoch.group(2)):.4f}  valid {epoch.group(3)} {value:.4f} "
            f"(best {self.best:.4f})  {per_epoch:.2f}s/epoch"
        )
        if self._progress is None:
            self._print(f"  {self.stage or self.label} epoch {self.epoch:>3}  {note}")
            return
        if self._task is None:
            self._task = self._progress.add_task(
                f"{self.label} {self.stage}".strip(), total=self.max_epochs, note=""
            )
        self._progress.update(self._task, completed=self.epoch, note=note)


@contextmanager
def status(console: Console, message: str) -> Iterator[None]:
    """A spinner on a terminal while something silent runs; one line with its time either way."""
    started = time.perf_counter()
    if console.is_terminal:
        with console.status(message):
            yield
    else:
        yield
    console.print(f"{message} done ({duration(time.perf_counter() - started)})")

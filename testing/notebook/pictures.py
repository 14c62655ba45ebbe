"""Pictures for what is easier seen than read: requests during a push, and the stack.

Drawn with matplotlib's object API (no pyplot, so no global state and no
backend to choose): a :class:`~matplotlib.figure.Figure` rendered to PNG for a
notebook (:class:`~testing.notebook.tables.Picture`), or to SVG for the docs site.
"""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from .deployments import Deployment
from .load import Load
from .tables import Picture

OLD, NEW, FAILED, OTHER = "#3b6fb6", "#2a9d55", "#d1343a", "#888888"


def png(figure: Figure, description: str) -> Picture:
    """``figure`` as a small PNG: 100 dpi, and a palette of 128 colours, which keeps
    lines and text sharp at a third of the size (the site embeds the image in its page)."""
    from PIL import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB").quantize(colors=128)
    small = io.BytesIO()
    image.save(small, format="PNG", optimize=True)
    return Picture(small.getvalue(), description)


def svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _marks(ax: Axes, push: Deployment, load: Load) -> None:
    """Vertical lines for the moments the record and the load know."""
    t0 = push.started
    for n, instance in enumerate(push.instances):
        ax.axvline(
            instance.ready_at - t0, color=NEW, linestyle=":", linewidth=1.2,
            label="new container answered the platform" if n == 0 else None,
        )  # fmt: skip
    switch = load.switch_at()
    if switch is not None:
        ax.axvline(switch - t0, color="black", linewidth=1.2, label="traffic switched")
    if push.finished is not None:
        ax.axvline(
            push.finished - t0, color=OTHER, linestyle="--", linewidth=1, label="push finished"
        )


def plot_load(load: Load, push: Deployment, title: str) -> Picture:
    """Each request of ``load`` during ``push``: when it was sent, how long its answer
    took, which container sent it, and the requests that got no answer."""
    figure = Figure(figsize=(8, 3.8), layout="constrained")
    ax = figure.add_subplot()
    t0 = push.started
    labels = load.labels
    colors = {label: (OLD, NEW)[i] if i < 2 else OTHER for i, label in enumerate(labels)}
    names = {
        label: ("old container", "new container")[i] if i < 2 else "other"
        for i, label in enumerate(labels)
    }
    if len(labels) == 1:
        names = {labels[0]: "answered"}
    answered = [r for r in load.requests if r.ok]
    for label in labels:
        mine = [r for r in answered if r.answered_by == label]
        ax.scatter(
            [r.start - t0 for r in mine], [r.seconds * 1000 for r in mine],
            s=9, color=colors[label], label=f"{names[label]} ({len(mine)})", zorder=3,
        )  # fmt: skip
    top = max([r.seconds * 1000 for r in load.requests] + [10.0]) * 3
    for r in load.across_switch():  # a bar from when it was sent to when it was answered
        ax.plot([r.start - t0, r.end - t0], [r.seconds * 1000] * 2, color=OLD, linewidth=2)
    failed = load.failed
    for r in failed:  # a cross when it was sent, a line for as long as it waited
        ax.plot([r.start - t0, r.end - t0], [top * 0.8] * 2, color=FAILED, linewidth=0.8, alpha=0.5)
    if failed:
        ax.scatter(
            [r.start - t0 for r in failed], [top * 0.8] * len(failed), marker="x", s=22,
            color=FAILED, label=f"no answer ({len(failed)})", zorder=4,
        )  # fmt: skip
        start, end = load.gap()
        ax.axvspan(
            start - t0, end - t0, color=FAILED, alpha=0.08,
            label=f"no answer arrived for {end - start:.1f} s",
        )  # fmt: skip
    _marks(ax, push, load)
    ax.set_yscale("log")
    ax.set_ylim(0.5, top)
    ax.set_xlabel(f"seconds since push {push.id} started")
    ax.set_ylabel("answer time (ms)")
    ax.set_title(title, fontsize=11)
    ax.grid(True, which="major", alpha=0.3)
    figure.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    description = f"every request sent during push {push.id}: when, how long it took, who answered"
    return png(figure, description)


def _box(
    ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str, *, size: int = 9
) -> None:
    ax.add_patch(
        FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                       facecolor=color, edgecolor="#333333", linewidth=1)
    )  # fmt: skip
    ax.text(x + w / 2, y + h - 0.12, text, ha="center", va="top", fontsize=size)


def _arrow(
    ax: Axes, start: tuple[float, float], end: tuple[float, float], text: str = "", **place: object
) -> None:
    style = {"arrowstyle": "->", "color": "#333333", "linewidth": 1.2}
    ax.annotate("", xy=end, xytext=start, arrowprops=style)
    if text:
        x, y = place.get("at", ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.1))  # type: ignore[misc]
        ax.text(
            x, y, text, ha=place.get("ha", "center"), va="bottom", fontsize=7.5, color="#333333"
        )


def _container(ax: Axes, x: float, y: float, name: str) -> None:
    _box(ax, x, y, 2.6, 1.55, f"service container {name}", "#e8eef8")
    _box(ax, x + 0.2, y + 0.12, 2.2, 1.05, "supervisord", "#f6f6f6", size=8)
    _box(ax, x + 0.45, y + 0.22, 1.7, 0.5, "node server.js :8080", "#dff3e4", size=8)


def stack_figure() -> Figure:
    """The platform's pieces and the way a request and a push go through them."""
    figure = Figure(figsize=(9, 5.2))
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10.6)
    ax.set_ylim(0, 6.2)
    ax.axis("off")
    _box(ax, 0.2, 4.5, 2.3, 1.4, "your machine\n$ dotkit push", "#fff6d9")
    _box(
        ax,
        3.3,
        4.5,
        4.0,
        1.4,
        "builder (apart from the containers)\nnpm install, hooks,\nthen a snapshot",
        "#fde8d8",
    )
    _box(ax, 0.2, 1.9, 1.8, 1.2, "HTTP clients", "#fff6d9")
    _box(ax, 2.5, 1.7, 1.7, 1.6, "router\none URL\nper service", "#eeeeee")
    _container(ax, 4.8, 2.55, "gear1.0")
    _container(ax, 4.8, 0.6, "gear2.0")
    store = "\n".join(
        [
            "data service db.0",
            "redis-server,",
            "kept across pushes;",
            "at the host and port",
            "in environment.json",
        ]
    )
    _box(ax, 8.0, 1.0, 2.5, 1.7, store, "#efe3f7", size=8)
    _arrow(ax, (2.5, 5.2), (3.3, 5.2), "upload")
    _arrow(
        ax,
        (6.1, 4.5),
        (6.1, 4.12),
        "snapshot, unpacked into\nevery new container",
        at=(6.25, 4.16),
        ha="left",
    )
    _arrow(ax, (2.0, 2.5), (2.5, 2.5))
    _arrow(ax, (4.2, 2.8), (4.8, 3.3))
    _arrow(ax, (4.2, 2.2), (4.8, 1.4))
    _arrow(ax, (7.4, 1.4), (8.0, 1.7))
    return figure


def stack_diagram() -> Picture:
    return png(
        stack_figure(),
        "the stack: router, service containers, supervisord, node; the builder apart",
    )

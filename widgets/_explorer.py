"""The machinery every explorer shares.

An explorer is an ipywidgets ``VBox`` of sliders and a picture.  Moving a
slider recomputes a *frame* (the data shown) and redraws a matplotlib scene
by blitting (:class:`~widgets._static.BlitCanvas`).  While the book is built
(:func:`sgdlab.book.building`), its display also
carries a ``text/html`` fallback: frames precomputed over one slider's values
behind an HTML slider (:func:`~widgets._static.slider_html`), which the built
book shows where no kernel runs.  A live frontend gets the widget alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from sgdlab.book import building, frames_folder
from widgets._static import BlitCanvas, slider_html

__all__ = ["Explorer", "Scene", "StaticSweep"]


class Scene(Protocol):
    """A matplotlib figure drawn once, whose artists each frame updates."""

    fig: Figure
    canvas: BlitCanvas

    def update(self, frame: Any) -> None: ...


@dataclass(frozen=True)
class StaticSweep:
    """The slider that the static fallback sweeps.

    Attributes
    ----------
    slider : str
        Attribute name of the slider.
    values : sequence of float
        Its values, one precomputed frame each.
    label : str
        Name shown next to the HTML slider (HTML entities allowed).
    fmt : str
        Format of a value in the HTML slider's readout.
    names : sequence of str, optional
        Readouts of the values instead of ``fmt`` (a slider over named choices).
    """

    slider: str
    values: Sequence[float]
    label: str
    fmt: str = "{:.2f}"
    names: Sequence[str] | None = None


class Explorer(W.VBox):
    """Base class of the explorers.

    Subclasses create their sliders as attributes, then call
    ``super().__init__`` with the slider names row by row, their scene and
    their static sweeps (one or two sliders that still move in the built book),
    and implement :meth:`compute` and :meth:`caption`.
    """

    def __init__(self, rows: Sequence[Sequence[str]], scene: Scene,
                 static: Sequence[StaticSweep]) -> None:
        self._names = tuple(name for row in rows for name in row)
        self._scene = scene
        self._static = static
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.frame: Any = None
        self._static_frames: dict[tuple[tuple[str, Any], ...], bytes] = {}
        for slider in self.sliders:
            slider.observe(self._on_change, names="value")
        boxes = [W.HBox([getattr(self, name) for name in row]) for row in rows]
        super().__init__([*boxes, self.image])
        self.redraw()

    def compute(self, values: Mapping[str, Any]) -> Any:
        """The frame for the given slider values (a mapping from slider name to value)."""
        raise NotImplementedError

    def caption(self) -> str:
        """Caption of the static fallback."""
        raise NotImplementedError

    @property
    def sliders(self) -> tuple[W.ValueWidget, ...]:
        """The sliders, in display order."""
        return tuple(getattr(self, name) for name in self._names)

    @property
    def figure(self) -> Figure:
        """The matplotlib figure behind the picture."""
        return self._scene.fig

    def values(self, **overrides: Any) -> dict[str, Any]:
        """The sliders' current values by name, with ``overrides`` applied."""
        return {name: getattr(self, name).value for name in self._names} | overrides

    def redraw(self) -> None:
        """Recompute the frame for the sliders' values and update the picture."""
        self.frame = self.compute(self.values())
        self._scene.update(self.frame)
        self.image.value = self._scene.canvas.png()

    def static_html(self) -> str:
        """HTML sliders over frames precomputed along the static sweeps (others as they are).

        One HTML slider per sweep, over every combination of their values.  Each frame
        is computed once per explorer: a second display reuses it.
        """
        # in a build each frame is re-encoded as WebP: the fastest PNG level loses nothing
        level = 9 if frames_folder() is None else 1
        frames = []
        for combination in itertools.product(*(sweep.values for sweep in self._static)):
            values = self.values(**{sweep.slider: value for sweep, value
                                    in zip(self._static, combination, strict=True)})
            key = tuple(values.items())
            if key not in self._static_frames:
                self._scene.update(self.compute(values))
                self._static_frames[key] = self._scene.canvas.png(compress_level=level)
            frames.append(self._static_frames[key])
        self._scene.update(self.frame)
        initial = [int(np.argmin(np.abs(np.asarray(sweep.values, dtype=float)
                                        - getattr(self, sweep.slider).value)))
                   for sweep in self._static]
        axes = [(sweep.label, list(sweep.names) if sweep.names is not None
                 else [sweep.fmt.format(v) for v in sweep.values]) for sweep in self._static]
        return slider_html(frames, axes, initial=initial, caption=self.caption())

    def _on_change(self, _change: dict[str, Any]) -> None:
        self.redraw()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs)
        if building():
            bundle["text/html"] = self.static_html()
        return bundle

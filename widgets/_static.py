"""Static fallback of an explorer: precomputed frames behind an HTML slider."""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from sgdlab.book import FRAMES_URL, frames_folder
from sgdlab.storage import atomic_write, digest

#: Numbers the fallbacks of one process, so that equal explorers on one page keep
#: distinct element ids, the same in every build of the book.
_COUNT = itertools.count()


class BlitCanvas:
    """Agg rendering of a figure whose static parts are drawn once.

    Artists passed as ``dynamic`` are marked animated: a full draw renders
    everything else (axes, ticks, fixed contours) and caches it, and each
    :meth:`png` call restores that background and draws only the dynamic
    artists over it, the standard matplotlib blitting technique.  Artists that
    change must therefore all be listed in ``dynamic``.

    Parameters
    ----------
    fig : Figure
    dynamic : sequence of Artist
    """

    def __init__(self, fig: Figure, dynamic: Sequence[Artist]) -> None:
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.dynamic = list(dynamic)
        for artist in self.dynamic:
            artist.set_animated(True)
        self._background = None

    def invalidate(self) -> None:
        """Forget the cached background: the next :meth:`png` draws everything."""
        self._background = None

    def png(self, *, compress_level: int = 1) -> bytes:
        """The figure as PNG bytes.

        ``compress_level`` trades size for time: 1 for live redraws (a few
        milliseconds), 9 for frames stored in the built page.
        """
        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self._background)
        for artist in self.dynamic:
            self.fig.draw_artist(artist)
        # RGB: the figure is opaque, and a quarter fewer bytes encode faster
        rgb = np.ascontiguousarray(np.asarray(self.canvas.buffer_rgba())[..., :3])
        out = io.BytesIO()
        Image.fromarray(rgb).save(out, format="png", compress_level=compress_level)
        return out.getvalue()


def slider_html(frames: Sequence[bytes], axes: Sequence[tuple[str, Sequence[str]]], *,
                initial: Sequence[int] | None = None, caption: str = "") -> str:
    """HTML of sliders that swap precomputed PNG frames, with inline JavaScript.

    One slider per axis; the frames cover every combination of the axes' positions,
    the last axis varying fastest.  While the book is built
    (:func:`sgdlab.book.frames_folder`), each frame is a lossless WebP file named by
    its content, which the browser fetches when the sliders reach it; elsewhere the
    frames are inlined as ``data:`` URLs, so that the HTML stands alone.

    Parameters
    ----------
    frames : sequence of bytes
        PNG images, one per combination of positions.
    axes : sequence of (str, sequence of str)
        For each slider, its name (HTML allowed, e.g. ``"&lambda;"``) and the value
        shown at each of its positions.
    initial : sequence of int, optional
        The position of each slider shown first (all 0 by default).
    caption : str
        Text under the picture; also the image's alternative text.
    """
    sizes = [len(labels) for _, labels in axes]
    if not axes or 0 in sizes or len(frames) != math.prod(sizes):
        raise ValueError(f"frames must number the product of the axes' lengths {sizes}, "
                         f"got {len(frames)}")
    start = [0] * len(axes) if initial is None else [int(k) for k in initial]
    if len(start) != len(axes) or any(not 0 <= k < n for k, n in zip(start, sizes, strict=True)):
        raise ValueError(f"initial must hold one position per axis within {sizes}, "
                         f"got {initial}")
    uid = f"sgdlab-{digest(b''.join(frames) + caption.encode())}-{next(_COUNT)}"
    folder = frames_folder()
    if folder is None:
        urls = ["data:image/png;base64," + base64.b64encode(f).decode("ascii") for f in frames]
    else:
        urls = [FRAMES_URL + _frame_file(folder, f) for f in frames]
    alt = html.escape(caption, quote=True)
    flat = int(np.ravel_multi_index(start, sizes))
    controls = "\n".join(
        f'<label class="sgdlab-explorer-control">{name} = '
        f"<output>{html.escape(labels[k])}</output>\n"
        f'<input type="range" min="0" max="{len(labels) - 1}" step="1" value="{k}"\n'
        f' aria-label="{html.escape(name, quote=True)}"'
        ' style="width: 60%; vertical-align: middle;"></label>'
        for (name, labels), k in zip(axes, start, strict=True))
    return f"""<div class="sgdlab-explorer" id="{uid}">
{controls}
<img src="{urls[flat]}" alt="{alt}" style="max-width: 100%; display: block;">
<p class="sgdlab-explorer-caption">{html.escape(caption)}</p>
<script>
(function () {{
  var frames = {json.dumps(urls)};
  var labels = {json.dumps([list(labels) for _, labels in axes])};
  var root = document.getElementById("{uid}");
  var ranges = root.querySelectorAll("input"), outs = root.querySelectorAll("output");
  var img = root.querySelector("img");
  function show() {{
    var index = 0;
    for (var a = 0; a < ranges.length; a++) {{
      index = index * labels[a].length + Number(ranges[a].value);
      outs[a].textContent = labels[a][ranges[a].value];
    }}
    img.src = frames[index];
  }}
  for (var a = 0; a < ranges.length; a++) ranges[a].addEventListener("input", show);
}})();
</script>
</div>"""


def _frame_file(folder: Path, png: bytes) -> str:
    """Write a frame as lossless WebP into ``folder``, named by its content; its name."""
    out = io.BytesIO()
    # lossless at effort 25 and method 2: a third of the default (80, 4) encoding time,
    # for files a few per cent larger
    Image.open(io.BytesIO(png)).save(out, format="webp", lossless=True, quality=25, method=2)
    data = out.getvalue()
    name = f"{digest(data, 20)}.webp"
    path = folder / name
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as fh:
            fh.write(data)
    return name

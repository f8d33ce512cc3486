r"""The gradient noise D against the curvature H and G of a network, during training.

One function of a configuration, :func:`measure`, for :func:`sgdlab.sweep.sweep`:
it trains the network once (:func:`sgdlab.deep.train.fit`, checkpoints kept in
the runs folder), takes the weights at a fraction of training (0 is the
initialisation), and on the first ``n`` training examples forms the dense D
of eq. (2) (:mod:`sgdlab.deep.diffusion`), the Hessian H and the Gauss-Newton
matrix G (:mod:`sgdlab.deep.curvature`), and the measures of
:mod:`sgdlab.core.alignment`: cosines, Zhu et al.'s
:math:`\mathrm{Tr}(HD)/(\mathrm{Tr}H\,\mathrm{Tr}D/d)`, Gur-Ari et al.'s share of
the gradient in the top-C eigenspace of H (C classes), the overlap of the top-C
eigenspaces of H, G and D, and their controls (a Haar-random rotation of H, a
random C-dimensional subspace).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from sgdlab.core import alignment as al
from sgdlab.storage import config_key, runs_root

from . import data, models, train
from .curvature import gauss_newton, loss_hessian
from .device import num_threads, pick
from .diffusion import dense_diffusion
from .gradients import per_example_gradients

__all__ = ["CONFIGS", "grid", "measure"]

#: The experiment at each scale of :func:`sgdlab.deep.device.profile`: network,
#: epochs of training, examples for H, G and D, checkpoints (0 = initialisation).
CONFIGS: dict[str, dict[str, Any]] = {
    "cpu": {"model": "tiny-fc", "epochs": 10, "lr": 0.1, "seed": 0, "n": 512,
            "fractions": [0.0, 0.1, 1.0]},
    "full": {"model": "tiny-fc", "epochs": 100, "lr": 0.1, "seed": 0, "n": 8192,
             "fractions": [0.0, 0.01, 0.05, 0.3, 1.0]},
}


def grid(scale: str) -> list[dict[str, Any]]:
    """One configuration of :func:`measure` per checkpoint of ``CONFIGS[scale]``."""
    if scale not in CONFIGS:
        raise ValueError(f"scale must be one of {', '.join(CONFIGS)}, got {scale!r}")
    base = {k: v for k, v in CONFIGS[scale].items() if k != "fractions"}
    return [base | {"fraction": f, "checkpoints": CONFIGS[scale]["fractions"]}
            for f in CONFIGS[scale]["fractions"]]


def _network(config: Mapping[str, Any], x: torch.Tensor, y: torch.Tensor) -> torch.nn.Module:
    """The network of ``config`` at its fraction of training, in evaluation mode."""
    name, seed = config["model"], int(config["seed"])
    if config["fraction"] == 0.0:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)                     # the initialisation fit() draws
            return models.build(name).eval()
    fractions = [f for f in config["checkpoints"] if f > 0]
    run = {k: config[k] for k in ("model", "epochs", "lr", "seed")} | {"fractions": fractions}
    folder = runs_root() / "noise_curvature" / config_key(run)
    result = train.fit(name, x, y, epochs=int(config["epochs"]), lr=float(config["lr"]),
                       seed=seed, run_dir=folder, fractions=fractions, progress=False)
    net, _ = models.from_checkpoint(result.checkpoints[config["fraction"]])
    return net


def measure(config: Mapping[str, Any]) -> dict[str, Any]:
    """D, H and G of one checkpoint and how they line up; a JSON-able dict.

    Parameters
    ----------
    config : mapping
        ``model``, ``epochs``, ``lr``, ``seed``, ``n`` (examples for the
        matrices), ``fraction`` (of training; 0 for the initialisation) and
        ``checkpoints`` (all the fractions of the run), as :func:`grid` makes them.

    Returns
    -------
    dict
        ``loss``, ``accuracy`` (on the ``n`` examples), ``d``, ``k`` (classes);
        ``cos_dg``, ``cos_dh``, ``cos_gh`` and ``cos_iso`` (the cosine of D with
        the identity); ``zhu_h``, ``zhu_g`` (Tr(HD) and Tr(GD) over their
        isotropic values) and ``zhu_z`` (Tr(HD) in standard deviations of its
        null, H with Haar-random eigenvectors); ``frac_h``, ``frac_g``, ``frac_d`` (share of the
        gradient in the top-k eigenspace of each) and ``frac_random`` (in a random
        one); ``overlap_hd``, ``overlap_gd``, ``overlap_hg``; ``top_h``,
        ``top_d`` (leading eigenvalues).
    """
    dev = pick()
    with num_threads(1 if dev.type == "cpu" else None):   # tiny-fc stalls on spinning threads
        return _measure(config, dev)


def _measure(config: Mapping[str, Any], dev: torch.device) -> dict[str, Any]:
    name = config["model"]
    x, y = data.load(models.spec(name).dataset, device=dev)
    net = _network(config, x, y).to(dev)
    xs, ys = x[: int(config["n"])], y[: int(config["n"])]
    grads = per_example_gradients(net, xs, ys, device=dev)
    d_mat = dense_diffusion(grads, device=dev).cpu().numpy()
    h = loss_hessian(net, xs, ys, device=dev).cpu().numpy()
    g_mat = gauss_newton(net, xs, ys, device=dev).cpu().numpy()
    grad = grads.to(torch.float64).mean(dim=0).cpu().numpy()
    loss, accuracy = train.evaluate(net, xs, ys)
    dim, k = h.shape[0], models.spec(name).num_classes
    rng = np.random.default_rng(int(config["seed"]))
    tops = {key: al.top_eigenspace(m, k) for key, m in (("h", h), ("g", g_mat), ("d", d_mat))}
    bases = {key: vectors for key, (_, vectors) in tops.items()}
    zhu = al.trace_alignment(h, d_mat)
    random_basis = np.linalg.qr(rng.standard_normal((dim, k)))[0]
    return {
        "fraction": config["fraction"], "loss": loss, "accuracy": accuracy, "d": dim, "k": k,
        "cos_dg": al.frobenius_cosine(d_mat, g_mat), "cos_dh": al.frobenius_cosine(d_mat, h),
        "cos_gh": al.frobenius_cosine(g_mat, h),
        "cos_iso": al.frobenius_cosine(d_mat, np.eye(dim)),
        "zhu_h": zhu.ratio, "zhu_z": zhu.z, "zhu_g": al.trace_alignment(g_mat, d_mat).ratio,
        **{f"frac_{key}": al.subspace_fraction(grad, b) for key, b in bases.items()},
        "frac_random": al.subspace_fraction(grad, random_basis),
        "overlap_hd": al.subspace_overlap(bases["h"], bases["d"]),
        "overlap_gd": al.subspace_overlap(bases["g"], bases["d"]),
        "overlap_hg": al.subspace_overlap(bases["h"], bases["g"]),
        "top_h": tops["h"][0].tolist(), "top_d": tops["d"][0].tolist(),
    }

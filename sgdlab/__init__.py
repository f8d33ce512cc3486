"""sgdlab: the library behind the course on Chaudhari & Soatto (ICLR 2018).

Modules, one idea each:

- :mod:`sgdlab.landscapes`: loss landscapes (Example 19's double well, wells for
  local entropy, a tilted well) and local entropy (Section V-C).
- :mod:`sgdlab.sde`: Euler-Maruyama simulation of continuous-time SGD (eq. 3).
- :mod:`sgdlab.critical`: zeros of vector fields and their types.
- :mod:`sgdlab.dynamics`: noise-free flows and their long-time behaviour.
- :mod:`sgdlab.grid`: grids and finite-difference operators in the plane.
- :mod:`sgdlab.density`: histograms of samples against exact densities.
- :mod:`sgdlab.fokker_planck`: a conservative finite-volume solver of eq. (FP)
  in 1-D and 2-D, its steady state, free energy and current.
- :mod:`sgdlab.jko`: JKO steps (Corollary 8), exact in 1-D, entropic in 2-D.
- :mod:`sgdlab.linear`: the decomposition F = (D + Q) U of Lemma 20.
- :mod:`sgdlab.plotting`: drawing helpers shared by chapters and explorers.
- :mod:`sgdlab.minibatch`: the diffusion matrix (eq. 2) and the covariance of
  a mini-batch gradient, with and without replacement (Appendix A).
- :mod:`sgdlab.sgd`: discrete SGD chains and their stationary covariances
  (discrete and continuous Lyapunov equations, Lemma 2).
- :mod:`sgdlab.logistic`: logistic regression with per-example gradients.
- :mod:`sgdlab.data`: real MNIST, read offline; CIFAR-10/100 with contrast
  normalisation and ZCA whitening; the augmented view of Fig. 2c.
- :mod:`sgdlab.models`: the paper's four small networks (Section IV).
- :mod:`sgdlab.device`: where heavy work runs (CPU or CUDA) and at which scale.
- :mod:`sgdlab.train`: SGD with Nesterov momentum on the paper's networks,
  resident data, resumable checkpoints at fractions of training.
- :mod:`sgdlab.diffusion`: per-example gradients of a network, its diffusion
  matrix D(x) (eq. 2) and eigenspectrum, exact and fast (Section IV).
- :mod:`sgdlab.spectra`: the experiment of Figs. 1-2, the spectrum of D along
  training, kept on disk.
- :mod:`sgdlab.modes`: the most likely point of a steady state and its shift
  from the minimum of the loss (Theorem 22, Remarks 23-26).
- :mod:`sgdlab.chains`: independent SGD chains of one network, trained at once with torch.func.
- :mod:`sgdlab.runs`: long SGD runs on disk, one snapshot per epoch, resumable (Fig. 3).
- :mod:`sgdlab.trajectory`: is a trajectory Brownian? Spectra, autocorrelations (Remarks 17-18).
"""

__version__ = "0.1.0"

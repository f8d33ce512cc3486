"""sgdlab: the library behind the course on Chaudhari & Soatto (ICLR 2018).

Modules, one idea each:

- :mod:`sgdlab.landscapes`: loss landscapes (Example 19's double well).
- :mod:`sgdlab.sde`: Euler-Maruyama simulation of continuous-time SGD (eq. 3).
- :mod:`sgdlab.critical`: zeros of vector fields and their types.
- :mod:`sgdlab.dynamics`: noise-free flows and their long-time behaviour.
- :mod:`sgdlab.grid`: grids and finite-difference operators in the plane.
- :mod:`sgdlab.density`: histograms of samples against exact densities.
- :mod:`sgdlab.minibatch`: the diffusion matrix (eq. 2) and the covariance of
  a mini-batch gradient, with and without replacement (Appendix A).
- :mod:`sgdlab.sgd`: discrete SGD chains and their stationary covariances
  (discrete and continuous Lyapunov equations, Lemma 2).
- :mod:`sgdlab.logistic`: logistic regression with per-example gradients.
- :mod:`sgdlab.data`: real MNIST, read offline.
- :mod:`sgdlab.modes`: the most likely point of a steady state and its shift
  from the minimum of the loss (Theorem 22, Remarks 23-26).
"""

__version__ = "0.1.0"

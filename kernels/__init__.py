"""Compiled kernels of graphgeo (installed as ``graphgeo.kernels``).

Plain arrays in, plain arrays out: no validation, no orchestration. Imports
numpy and numba only. Each leaf function is written as plain Python and
compiled with numba; ``NUMBA_DISABLE_JIT=1`` runs them as Python for coverage.
"""

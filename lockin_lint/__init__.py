"""lockin-lint: find, judge and measure CUDA lock-in in PyTorch and CUDA C/C++ code."""

__version__ = "0.1.0"

"""Benchmark suite (``make bench``): workflow reruns, brief rendering and scale, with targets.

``python -m benchmarks.run [--smoke]`` writes ``benchmarks/results.json`` and
``benchmarks/results.md``. Not part of ``make test``; CI runs only the smoke mode (tiny sizes, no
workflow timings). See ``docs/benchmarks.md``.
"""

"""Performance benchmarks of Maillage: they print figures, they never fail on timing.

Run with ``python -m bench.run`` (see bench/README.md). Every module but
``run`` and ``database`` imports Django models, so they are imported only
after ``django.setup()``.
"""

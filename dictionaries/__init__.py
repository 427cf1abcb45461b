"""Terminology dictionaries: terms with readings, CSV in/out, decoder biasing, reading-based correction.

Not built yet (issue 4); the pipeline runs without a dictionary until then.
"""

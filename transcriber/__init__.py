"""Audio in, transcript out: decode → speech detection → recognition → format.

A pure pipeline: it knows nothing of the web, the database or the queue.
"""

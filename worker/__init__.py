"""The worker: takes jobs from the queue, runs the transcriber pipeline, stores results, records usage.

Not built yet (issue 5); `kiroku transcribe` runs the pipeline directly until then.
"""

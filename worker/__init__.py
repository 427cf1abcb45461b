"""The worker: takes jobs from the queue (Celery), runs the transcriber pipeline, stores results and usage."""

"""The FastAPI service: data model, auth, uploads, jobs, minutes and usage. Not built yet (issue 5)."""

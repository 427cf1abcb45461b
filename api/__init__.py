"""The service: FastAPI app, data model (SQLModel + Alembic), auth, uploads, jobs, minutes and usage."""

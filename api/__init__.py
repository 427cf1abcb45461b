"""The HTTP face of the service: the FastAPI app, thin routes with declared response models, auth."""

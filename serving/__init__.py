"""The serving gateway: registered models over HTTP (FastAPI + uvicorn); imports tools/ only."""

"""api: store, serve and push (FastAPI, SQLAlchemy, auth, review, alerts, CLI)."""

"""vision: frames in, typed violation events out. Imports neither ``streams`` nor ``api``."""

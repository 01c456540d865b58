"""streams: cameras to frames to workers. Uses ``vision``; never imports ``api``."""

"""streams: cameras to frames to workers. Uses ``vision``; never imports ``api``.

- ``sources``: file / RTSP / webcam ``FrameSource`` implementations (``SourceError`` on failure)
- ``health``: reconnect backoff, per-camera status and counters, ``camera_offline`` events
- ``tamper``: ``camera_tampered`` events from scene statistics
- ``slots``: latest-frame-wins slot (drops counted) and the live-view frame hub
- ``detect``: one detector thread batching frames of every camera
- ``worker``: one camera's reader and processor threads
- ``record``: main-stream clips by stream copy (``record_url``)
- ``runtime``: ``brightkitchen run`` (config in ``config``), status, SIGTERM shutdown
- ``live``: WebRTC live view (WHEP-style) with an authorization hook; ``privacy``: face blur
- ``testing``: a real local RTSP server and synthetic clips for tests and benchmarks

See ``docs/cameras.md``.
"""

"""What the web tests share besides fixtures."""

from __future__ import annotations

# The address a browser on the same machine would use; the Host check accepts it.
BASE_URL = "http://127.0.0.1:8080"
ORIGIN = BASE_URL

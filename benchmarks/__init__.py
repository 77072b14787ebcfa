"""The side-by-side benchmark suite: asyncq and its peers, measured in one run.

Run it with ``make bench`` (or ``python -m benchmarks.run``). Nothing here is a test. The
modules that worker and client processes import (``probe`` and ``adapters``) use only the
standard library and the queue library they drive, because peers run in their own virtual
environment.
"""

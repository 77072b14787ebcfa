"""Limits on the page and page size that the web API and the CLI accept.

A page of tasks is read by one Redis script, and Redis runs one script at a time: a page
of 100 000 tasks blocks every other client for most of a second. The cap keeps a page
cheap; a page number so large that its first position overflows Redis' 64-bit integers
is refused here instead of failing inside Redis.
"""

from __future__ import annotations

from asyncq.errors import ConfigError

MAX_PAGE_SIZE = 1000
_LAST_POSITION = 2**62


def check_page(page: int, size: int) -> None:
    """Raise ConfigError unless ``page`` ≥ 1 and 1 ≤ ``size`` ≤ MAX_PAGE_SIZE."""
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ConfigError(f"The page size must be between 1 and {MAX_PAGE_SIZE}; {size} was given.")
    if page < 1:
        raise ConfigError(f"The page number starts at 1; {page} was given.")
    if page * size > _LAST_POSITION:
        raise ConfigError(
            f"Page {page} is beyond any queue; pages of {size} end at page "
            f"{_LAST_POSITION // size}."
        )

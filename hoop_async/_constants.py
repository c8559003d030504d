"""Defaults shared by the client and the session, in one place."""

from __future__ import annotations

from hoop_async._version import __version__

DEFAULT_BASE_URL = "https://services.leadconnectorhq.com"
DEFAULT_VERSION = "2021-07-28"
# Total seconds for one request, connect to last byte.
DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0
# Open connections per client; the API allows 100 requests per 10 s per location,
# so more sockets than this buy nothing.
DEFAULT_CONNECTION_LIMIT = 100
USER_AGENT = f"hoop-async/{__version__}"

# GET /opportunities/search takes 1..100 per page, POST /opportunities/search 1..500.
GET_SEARCH_MAX_LIMIT = 100
POST_SEARCH_MAX_LIMIT = 500
# POST search pages with `page` reach this many records; past it only `searchAfter` works.
POST_SEARCH_PAGE_WINDOW = 10_000
LOST_REASONS_PAGE_LIMIT = 100

"""Resources: the API's endpoints grouped the way the API groups them."""

from hoop_async.resources.opportunities import GetSearch, Opportunities, PostSearch

__all__ = ["GetSearch", "Opportunities", "PostSearch"]

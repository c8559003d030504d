"""Resources: the API's endpoints grouped the way the API groups them."""

from typing import TYPE_CHECKING

from hoop_async._lazy import lazy_attributes
from hoop_async.resources.opportunities import Opportunities

if TYPE_CHECKING:
    from hoop_async.resources._search import GetSearch, PostSearch
else:
    # The search iterators load on the first search.
    __getattr__, __dir__ = lazy_attributes(
        __name__, {"hoop_async.resources._search": ("GetSearch", "PostSearch")}
    )

__all__ = ["GetSearch", "Opportunities", "PostSearch"]

"""Custom field definitions, as GET /locations/{locationId}/customFields lists them."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["CustomFieldDefinition"]


@attrs.frozen(kw_only=True)
class CustomFieldDefinition:
    """A custom field of a location.

    `field_key` is the full key, such as "opportunity.external_id". Write bodies
    may name the field by its `id` or by `key`, the part after the model prefix.
    Records returned by the API name their custom fields by `id` only.
    """

    id: str
    name: str | None = None
    field_key: str | None = None
    data_type: str | None = None
    model: str | None = None
    position: int | None = None
    location_id: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def key(self) -> str | None:
        """The field key without its model prefix ("external_id" for "opportunity.external_id")."""
        if self.field_key is None:
            return None
        return self.field_key.split(".", 1)[1] if "." in self.field_key else self.field_key

    def matches(self, name: str) -> bool:
        """Tell whether `name` is this field's id, key, full field key or display name."""
        expected = name.casefold()
        candidates = (self.id, self.key, self.field_key, self.name)
        return any(c is not None and c.casefold() == expected for c in candidates)

"""Exceptions that carry a message meant for the user (file, row or key named)."""


class GalclustError(Exception):
    """Base class: the message is shown to the user as it is."""


class ConfigError(GalclustError, ValueError):
    """The configuration is invalid; the message names the key."""


class CatalogError(GalclustError, ValueError):
    """The catalog is invalid; the message names the file and the rows."""


class ImageError(GalclustError, ValueError):
    """An image file cannot be decoded or has an unexpected form."""

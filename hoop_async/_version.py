"""Version of the hoop-async distribution."""

__version__ = "0.1.0"

"""The arena: scenarios, matches, players and their sandbox, tournaments, ratings, leaderboards, the CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pg-arena")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

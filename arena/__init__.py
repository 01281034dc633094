"""The arena: scenarios, matches, tournaments, ratings, the local leaderboard, the CLI and benchmarks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pg-arena")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

"""Policy and value networks shared by the learners."""

from agents.nets.mlp import mlp

__all__ = ["mlp"]

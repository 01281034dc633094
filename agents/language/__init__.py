"""Language models shared by the language agents: the shipped small model, or a tiny random one for tests."""

from agents.language.model import (
    MODELS,
    SHIPPED,
    TINY,
    Generation,
    LanguageModel,
    ModelUnavailable,
    converted_models_dir,
    load_model,
    reseed,
    shared_model,
)

__all__ = [
    "MODELS",
    "SHIPPED",
    "TINY",
    "Generation",
    "LanguageModel",
    "ModelUnavailable",
    "converted_models_dir",
    "load_model",
    "reseed",
    "shared_model",
]

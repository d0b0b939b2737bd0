"""fastw2v: fast word2vec (skip-gram, CBOW) on the CPU with Numba Hogwild kernels."""
from .config import TrainConfig
from .errors import ConfigError, CorpusError, FastW2VError, FormatError, TrainingDiverged
from .keyedvectors import KeyedVectors
from .model import Word2Vec, load

__version__ = "0.1.0"

__all__ = ["Word2Vec", "KeyedVectors", "TrainConfig", "load", "FastW2VError", "ConfigError",
           "CorpusError", "FormatError", "TrainingDiverged", "__version__"]

"""TailGraph: a graph-database-centred, knowledge-aware recommender for the long tail."""

__version__ = "0.1.0"

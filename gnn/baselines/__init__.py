"""Baselines that are score functions, not torch models: fitted or tuned, never trained by BPR."""

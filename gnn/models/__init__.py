"""Torch recommendation models trained with BPR: TailGraph's TailGNN and the graph baselines."""

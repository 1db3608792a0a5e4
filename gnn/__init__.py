"""Heterogeneous graph data, models, training and evaluation."""

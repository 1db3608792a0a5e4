"""Recommendation models: TailGraph's GNN and the baselines it is measured against."""

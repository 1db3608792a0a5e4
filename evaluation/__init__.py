"""Offline evaluation of every model: protocols and seeds, scoring, run cache, reports, peers."""

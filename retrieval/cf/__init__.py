"""Collaborative filtering ("readers also liked"): config, models, content blend, split, eval, store."""

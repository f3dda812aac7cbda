"""vibeshelf: a conversational book recommender that other products plug in."""

__version__ = "0.1.0"

"""The NDA reviewer: upload → verified facts → policy verdict → report (German and English)."""

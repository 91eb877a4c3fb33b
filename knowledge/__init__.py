"""Documents turned into grounded, citable context: ingestion, chunking, embeddings, hybrid retrieval."""

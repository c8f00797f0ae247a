"""GitHub Actions: workflow commands and annotations, generated workflows, the matrix, summaries."""

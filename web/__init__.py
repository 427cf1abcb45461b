"""The clerks' Japanese web pages, served by the API. Not built yet (issue 6)."""

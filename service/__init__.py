"""The domain: recordings, jobs, minutes, usage, dictionaries, publication, search. No web framework."""

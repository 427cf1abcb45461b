"""The API's answers: the JSON each route returns, declared (response models)."""

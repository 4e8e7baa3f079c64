"""One module per validation check, each yielding findings."""

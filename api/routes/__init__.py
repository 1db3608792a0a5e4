"""HTTP routes: validate the request, call a use case, return its response model."""

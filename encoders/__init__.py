"""Text building and BERT encoding of node text."""

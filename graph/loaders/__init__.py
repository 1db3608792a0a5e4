"""Readers for the file formats the field uses; each validates before anything is written."""

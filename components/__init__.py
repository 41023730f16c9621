"""Reusable Streamlit widgets. They take domain objects and a key prefix, return values, and never touch a store."""

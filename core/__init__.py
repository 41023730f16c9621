"""Loupe's pure-Python core: domain types, media validation, stores, jobs and the service facade.

Nothing under core/ imports streamlit; the pages reach it through `core.service.Service`.
"""

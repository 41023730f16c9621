"""Readers and writers for the file formats Loupe exchanges with AWS services and other tools."""

"""Loupe's HTTP face for client applications: AWS-compatible A2I, flow-definition and Rekognition operations."""

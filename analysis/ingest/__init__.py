"""Stage 1, ingest: find the waves of each dataset and check the raw files before anything reads
them. Readers of each file format are in analysis.io.
"""

"""The P&L matrix: reading users' files (ingest), its Parquet layout (matrix), strategy names."""

"""Data quality (QUA-1, QUA-2): scores per GB/T 36344 dimension and consumers' quality problems."""
